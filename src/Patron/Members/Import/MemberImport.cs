using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Patron.Data;
using Patron.Levels;
using Patron.Points.Lots;

namespace Patron.Members.Import;

/// <summary>
/// <c>--import members.csv</c>: loads a chain's members from its old CRM, with their opening balances
/// and levels, then exits. The whole file is checked, and its ids and codes against the database,
/// before anything is written; the writes are one transaction, so a failure leaves the database as it was.
/// </summary>
public static class MemberImport
{
    /// <summary>The opening balance's ledger row. Patron writes its own BusiTypes (SPEC §6: X, A, L); partners cannot send this one.</summary>
    public const string OpeningBusiType = "O";

    public const string Actor = "import";

    public static async Task<int> RunAsync(IServiceProvider services, string path, TextWriter output, TextWriter errors, CancellationToken ct)
    {
        var name = Path.GetFileName(path);
        var clock = services.GetRequiredService<TimeProvider>();
        var started = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"import {name}: {line}"));
        int Fail(IEnumerable<string> problems, string? more)
        {
            errors.WriteLine($"patron: import {path}: nothing was imported:");
            foreach (var problem in problems.Append(more).OfType<string>())
                errors.WriteLine("  " + problem);
            return 1;
        }

        LevelTable levels;
        PointsPolicy policy;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
            levels = await LevelTable.LoadAsync(db, ct);
            var settings = await db.Settings.AsNoTracking().Where(s => PointsPolicy.Keys.Contains(s.Key)).ToDictionaryAsync(s => s.Key, s => s.Value, ct);
            policy = PointsPolicy.FromSettings(levels.Levels, settings);
        }

        ImportCheck check;
        try
        {
            // Strict UTF-8: a file saved in a legacy code page fails here, not as garbled names in the database.
            using var text = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
            check = MemberImportFile.Read(text, levels, n => Say(string.Create(CultureInfo.InvariantCulture, $"checked {n:N0} rows")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"patron: import {path}: {e.Message}");
            return 1;
        }
        if (check.ProblemCount > 0)
            return Fail(check.Problems, check.ProblemCount > ImportCheck.MaxListed
                ? string.Create(CultureInfo.InvariantCulture, $"… and {check.ProblemCount - ImportCheck.MaxListed:N0} more problems")
                : null);
        var rows = check.Rows;
        var openings = rows.Count(r => r.Balance != 0);
        Say(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count:N0} members checked in {started.Elapsed.TotalSeconds:0.0} s, {openings:N0} with an opening balance"));

        await using var store = await BeginAsync(services, ct);
        var taken = await store.FindTakenAsync(rows, ImportCheck.MaxListed + 1, ct);
        if (taken.Count > 0)
            return Fail(taken.Take(ImportCheck.MaxListed).Select(t => $"line {t.Line}: {t.Problem}"),
                taken.Count > ImportCheck.MaxListed ? "… and more ids or codes in the database already" : null);
        Say(string.Create(CultureInfo.InvariantCulture, $"no id or code is in the database yet ({started.Elapsed.TotalSeconds:0.0} s)"));

        var now = clock.GetUtcNow();
        // One bill number for the whole import, so its ledger rows can be found (and told from another import's) later.
        var billNum = "IMP-" + now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var expiresAt = policy.Expiry.ExpiresAt(now, policy.Zone);
        var expiring = expiresAt is { } at
            ? string.Create(CultureInfo.InvariantCulture, $"expiring {TimeZoneInfo.ConvertTime(at, policy.Zone):yyyy-MM-dd HH:mm} {policy.Zone.Id}")
            : "never expiring";
        try
        {
            await store.WriteMembersAsync(rows, now, n => Say(string.Create(CultureInfo.InvariantCulture, $"{n:N0} members written")), ct);
            await store.WriteOpeningsAsync(rows, billNum, now, n => Say(string.Create(CultureInfo.InvariantCulture, $"{n:N0} opening ledger rows written")), ct);
            // An opening balance is earned now, as far as expiry goes: the old CRM's dates are not in the file.
            await store.WriteOpeningLotsAsync(rows, billNum, now, expiresAt,
                n => Say(string.Create(CultureInfo.InvariantCulture, $"{n:N0} opening lots written")), ct);
            await store.CommitAsync(ct);
        }
        catch (ImportConflictException e)
        {
            return Fail([e.Message], null);
        }
        var seconds = started.Elapsed.TotalSeconds;
        Say(string.Create(CultureInfo.InvariantCulture,
            $"imported {rows.Count:N0} members and {openings:N0} opening ledger rows (BusiType {OpeningBusiType}, BusiBillNum {billNum}) and as many lots, {expiring}, in {seconds:0.0} s, {rows.Count / seconds:N0} members/s"));
        return 0;
    }

    private static async Task<IMemberImportStore> BeginAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetService<NpgsqlDataSource>() is { } postgres
            ? await PostgresMemberImport.BeginAsync(postgres, ct)
            : await SqliteMemberImport.BeginAsync(services.GetRequiredService<SqliteConnectionStringBuilder>(), ct);
}
