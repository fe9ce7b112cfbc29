using Patron;
using Patron.Cards;
using Patron.Catalog;
using Patron.Channels;
using Patron.Compat;
using Patron.Console;
using Patron.Data;
using Patron.Events.Webhooks;
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
// Here, not at the head where WebApplication would put it: the seed contracts' routes are
// short-circuited, run by the routing itself, and so skip all that follows: the console's culture
// and the operators' sign-in. Partners carry their own credentials.
app.UseRouting();
app.UseRequestLocalization();
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.UseNativeApiCharsets();

app.MapHealth();
app.MapLiveAndReady();
app.MapMetrics();

// The two seed contracts partners already speak, short-circuited (see UseRouting above).
var seeds = app.MapGroup("");
seeds.ShortCircuit();
seeds.MapPointAdd();
seeds.MapLevelSet();
seeds.MapCardPartnerApi();

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
api.MapWebhooks();
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
