using Patron;
using Patron.Cards;
using Patron.Catalog;
using Patron.Channels;
using Patron.Compat;
using Patron.Console;
using Patron.Data;
using Patron.Levels;
using Patron.Members;
using Patron.Members.Import;
using Patron.Metrics;
using Patron.Points;

// Settings are read once: watching the content root for changes would also watch data/patron.db and its WAL.
var builder = WebApplication.CreateBuilder([.. args, "--hostBuilder:reloadConfigOnChange=false"]);
builder.AddPatronHosting();
builder.AddPatronData();
builder.AddPatronMetrics();
builder.Services.AddPatronOperators();
builder.Services.AddPatronConsole();

var app = builder.Build();
// Outermost, so that it counts the status the caller finally got.
app.UseRequestMetrics();
app.UseExceptionHandler();
app.UseStatusCodePages();
// Only the console speaks a language: partners' calls skip setting the culture (an execution-context change per request).
app.UseWhen(http => PartnerApis.Of(http.Request.Path) == PartnerApi.None, console => console.UseRequestLocalization());
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseNativeApiCharsets();

app.MapHealth();
app.MapLiveAndReady();
app.MapMetrics();

// The two seed contracts partners already speak.
app.MapPointAdd();
app.MapLevelSet();
app.MapCardPartnerApi();

// The native API for operators, described at /openapi/v1.json.
var api = app.MapNativeApi();
api.MapMembers();
api.MapLedger();
api.MapLevels();
api.MapCards();
api.MapSales();
api.MapCardActions();
api.MapChannels();
api.MapDashboard();
api.MapLiveMetrics();
app.MapOpenApi();

app.MapConsole();

try
{
    await app.PreparePatronAsync();
}
catch (CatalogException e)
{
    // A bad catalog stops start-up with one readable line, not a stack trace.
    await Console.Error.WriteLineAsync($"patron: {e.Message}");
    return 1;
}
// --import members.csv loads members into the migrated database, then exits instead of serving (docs/import.md).
if (app.Configuration["import"] is { Length: > 0 } import)
    return await MemberImport.RunAsync(app.Services, import, Console.Out, Console.Error, CancellationToken.None);
await app.RunAsync();
return 0;
