using System.Globalization;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace Patron.Console;

/// <summary>
/// RFC 4180 CSV, UTF-8 with a BOM so that spreadsheet programs read Chinese correctly. Rows are
/// written to the response as they are read, so an export of any size holds one row in memory.
/// Times are the business zone's, with its offset: what the chain's staff read on their clocks,
/// and still one exact instant.
/// </summary>
public static class Csv
{
    public static IResult File(string fileName, TimeZoneInfo zone, IEnumerable<string> header, IAsyncEnumerable<object?[]> rows) =>
        new CsvFile(fileName, zone, [.. header], rows);

    /// <summary>An instant as the business zone tells it, e.g. <c>2026-12-04T20:00:00+08:00</c>.</summary>
    public static string Time(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private sealed class CsvFile(string fileName, TimeZoneInfo zone, string[] header, IAsyncEnumerable<object?[]> rows) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            var ct = http.RequestAborted;
            var disposition = new ContentDispositionHeaderValue("attachment");
            disposition.SetHttpFileName(fileName);
            http.Response.ContentType = "text/csv; charset=utf-8";
            http.Response.Headers.ContentDisposition = disposition.ToString();
            await http.Response.Body.WriteAsync(Encoding.UTF8.Preamble.ToArray(), ct);
            await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false), bufferSize: 32 * 1024, leaveOpen: true);
            var line = new StringBuilder();
            await writer.WriteAsync(Line(line, header.Cast<object?>()));
            await foreach (var row in rows.WithCancellation(ct))
                await writer.WriteAsync(Line(line, row));
            await writer.FlushAsync(ct);
        }

        private StringBuilder Line(StringBuilder line, IEnumerable<object?> fields)
        {
            line.Clear();
            var first = true;
            foreach (var field in fields)
            {
                if (!first)
                    line.Append(',');
                line.Append(Field(field));
                first = false;
            }
            return line.Append("\r\n");
        }

        private string Field(object? value)
        {
            var text = value switch
            {
                null => "",
                DateTimeOffset t => Time(t, zone),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            // A leading =, +, - or @ would run as a formula in a spreadsheet; a quote mark disarms it.
            if (text.Length > 0 && value is string && "=+-@".Contains(text[0]))
                text = "'" + text;
            return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
        }
    }
}
