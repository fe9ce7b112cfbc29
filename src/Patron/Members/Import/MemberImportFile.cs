using System.Globalization;
using Patron.Levels;

namespace Patron.Members.Import;

/// <summary>A member of the file, checked: its line, and what is written for it.</summary>
public sealed record ImportRow(int Line, long Id, string Code, string? Name, string? Phone, long Balance, long LifetimeEarned, byte LevelId);

/// <summary>The checked file: its rows if every one is good, else the first problems and how many there are.</summary>
public sealed class ImportCheck
{
    public const int MaxListed = 20;

    public List<ImportRow> Rows { get; } = [];
    public List<string> Problems { get; } = [];
    public int ProblemCount { get; private set; }

    public void Add(int line, string problem)
    {
        if (++ProblemCount <= MaxListed)
            Problems.Add($"line {line}: {problem}");
    }
}

/// <summary>
/// The members file (docs/import.md): a header naming the columns, then one member a line. Every
/// row is checked, and against the others, before anything is written.
/// </summary>
public static class MemberImportFile
{
    public const int MaxCodeLength = 32;
    public const int MaxNameLength = 100;
    public const int MaxPhoneLength = 32;

    public static readonly string[] Columns = ["id", "code", "name", "phone", "balance", "lifetimeEarned", "level"];
    private static readonly string[] Required = ["id", "code"];

    public static ImportCheck Read(TextReader text, LevelTable levels, Action<int>? progress = null)
    {
        var check = new ImportCheck();
        var records = new CsvRecords(text);
        var fields = new List<string>();
        try
        {
            if (!records.TryRead(fields, out var headerLine))
            {
                check.Add(1, $"the file is empty: the first line names the columns ({string.Join(',', Columns)})");
                return check;
            }
            if (Header(fields, headerLine, check) is not { } at)
                return check;
            var ids = new Dictionary<long, int>();
            var codes = new Dictionary<string, int>(StringComparer.Ordinal);
            var read = 0;
            while (records.TryRead(fields, out var line))
            {
                if (fields.Count != at.Count)
                    check.Add(line, $"{fields.Count} fields, the header has {at.Count}");
                else if (Row(fields, at, line, levels, check) is { } row)
                {
                    if (ids.TryAdd(row.Id, line) & codes.TryAdd(row.Code, line))
                        check.Rows.Add(row);
                    if (ids[row.Id] != line)
                        check.Add(line, $"id {row.Id} is also on line {ids[row.Id]}");
                    if (codes[row.Code] != line)
                        check.Add(line, $"code '{row.Code}' is also on line {codes[row.Code]}");
                }
                if (++read % 100_000 == 0)
                    progress?.Invoke(read);
            }
        }
        catch (CsvFormatException e)
        {
            check.Add(e.Line, e.Message);
        }
        if (check.ProblemCount == 0 && check.Rows.Count == 0)
            check.Add(2, "no members below the header");
        return check;
    }

    /// <summary>Where each column is; null (with the problem added) for a header that is not one.</summary>
    private static Dictionary<string, int>? Header(List<string> fields, int line, ImportCheck check)
    {
        var at = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields[i].Trim().TrimStart('\uFEFF');
            if (!Columns.Contains(name, StringComparer.OrdinalIgnoreCase))
                check.Add(line, $"column '{name}' is not one of {string.Join(", ", Columns)}");
            else if (!at.TryAdd(name, i))
                check.Add(line, $"column '{name}' is named twice");
        }
        foreach (var name in Required.Where(r => !at.ContainsKey(r)))
            check.Add(line, $"the header has no '{name}' column (the columns: {string.Join(",", Columns)})");
        return check.ProblemCount == 0 ? at : null;
    }

    private static ImportRow? Row(List<string> fields, Dictionary<string, int> at, int line, LevelTable levels, ImportCheck check)
    {
        string? Field(string column) => at.TryGetValue(column, out var i) && fields[i].Trim() is { Length: > 0 } value ? value : null;
        var problems = check.ProblemCount;
        void Problem(string text) => check.Add(line, text);

        var idText = Field("id");
        if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
            Problem(idText is null ? "id is missing" : $"id '{Shorten(idText)}' is not a whole number of 1 or more");

        var code = Field("code");
        if (code is null)
            Problem("code is missing");
        else if (code.Length > MaxCodeLength)
            Problem($"code '{Shorten(code)}' is longer than {MaxCodeLength} characters");
        else if (MemberRules.IsDigitsOnly(code))
            // The open API's memberId is a code or an integer id: an all-digit code could name another member.
            Problem($"code '{code}' is made only of digits, and a memberId of digits means a member id: a code needs a letter or another sign");
        else if (StoredText.HasNul(code))
            Problem("code holds a NUL character");

        var name = Field("name");
        if (name is { Length: > MaxNameLength })
            Problem($"name is longer than {MaxNameLength} characters");
        var phone = Field("phone");
        if (phone is { Length: > MaxPhoneLength })
            Problem($"phone '{Shorten(phone)}' is longer than {MaxPhoneLength} characters");
        if (StoredText.HasNul(name, phone))
            Problem("name or phone holds a NUL character");

        var balance = Points(Field("balance"), "balance", 0, Problem);
        var lifetime = Points(Field("lifetimeEarned"), "lifetimeEarned", Math.Max(balance, 0), Problem);
        // Patron's own ledger never earns less than it holds (lifetime adds every positive change).
        if (lifetime < balance)
            Problem($"lifetimeEarned {lifetime} is less than the balance {balance}");

        byte level = 0;
        var levelText = Field("level");
        if (levelText is null)
            level = levels.LevelFor(levels.Basis == LevelBasis.Balance ? balance : lifetime);
        else if (!byte.TryParse(levelText, NumberStyles.None, CultureInfo.InvariantCulture, out level) || !levels.Contains(level))
            Problem($"level '{Shorten(levelText)}' is not one of the levels ({string.Join(", ", levels.Levels.Select(l => l.Id))})");

        return check.ProblemCount == problems ? new ImportRow(line, id, code!, name, phone, balance, lifetime, level) : null;
    }

    private static long Points(string? text, string column, long blank, Action<string> problem)
    {
        if (text is null)
            return blank;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var points))
        {
            problem($"{column} '{Shorten(text)}' is not a whole number of points");
            return blank;
        }
        if (points < 0)
            problem($"{column} {points} is negative");
        return points;
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
