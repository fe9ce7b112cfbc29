using Patron;
using Patron.Cards;
using Patron.Catalog;
using Patron.Console;
using Patron.Data;
using Patron.Levels;
using Patron.Members;
using Patron.Points;

var builder = WebApplication.CreateBuilder(args);
builder.AddPatronHosting();
builder.AddPatronData();
builder.Services.AddPatronOperators();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapHealth();
app.MapPointAdd();
app.MapLevelSet();
app.MapMembers();
app.MapOpenApi();
app.MapCards();

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
await app.RunAsync();
return 0;

public partial class Program;
