using System.Globalization;
using System.Text;

namespace Patron.Console;

/// <summary>RFC 4180 CSV, UTF-8 with a BOM so that spreadsheet programs read Chinese correctly.</summary>
public static class Csv
{
    public static IResult File(string fileName, IEnumerable<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var text = new StringBuilder();
        text.AppendJoin(',', header.Select(Field)).Append("\r\n");
        foreach (var row in rows)
            text.AppendJoin(',', row.Select(Field)).Append("\r\n");
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text.ToString())).ToArray();
        return TypedResults.File(bytes, "text/csv; charset=utf-8", fileName);
    }

    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        // A leading =, +, - or @ would run as a formula in a spreadsheet; a quote mark disarms it.
        if (text.Length > 0 && value is string && "=+-@".Contains(text[0]))
            text = "'" + text;
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
    }
}
