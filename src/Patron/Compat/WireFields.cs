using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Patron.Compat;

/// <summary>
/// Typed, lenient reads from a wire object: integers may come as numbers or as text (XML, form,
/// and partners that quote numbers); a wrong type or a missing field becomes a 1004 naming it.
/// </summary>
public sealed class WireFields(JsonObject obj)
{
    public Failure? Error { get; private set; }

    public long Long(string name, long min = long.MinValue, long max = long.MaxValue, long? whenMissing = null)
    {
        if (obj[name] is null && whenMissing is { } fallback)
            return fallback;
        if (!TryGetLong(obj[name], out var value, out var problem))
            return Fail(name, problem, 0L);
        return value < min || value > max ? Fail(name, $"must be between {min} and {max}", 0L) : value;
    }

    public string String(string name, int maxLength, bool required = true)
    {
        var node = obj[name];
        if (node is null)
            return required ? Fail(name, "required", "") : "";
        if (node is not JsonValue v || v.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Number))
            return Fail(name, "must be a string", "");
        var text = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        if (required && text.Length == 0)
            return Fail(name, "required", "");
        if (text.Contains('\0'))
            return Fail(name, "must not contain NUL characters", ""); // PostgreSQL text cannot hold one: it was a 500
        return text.Length > maxLength ? Fail(name, $"at most {maxLength} characters", "") : text;
    }

    /// <summary>Money: parsed from the JSON text as a decimal, never through a binary float.</summary>
    public decimal? Decimal(string name, int maxScale, bool required = true)
    {
        var node = obj[name];
        if (node is null)
            return required ? Fail<decimal?>(name, "required", null) : null;
        var text = node is JsonValue v ? v.GetValueKind() switch
        {
            JsonValueKind.Number => v.ToJsonString(),
            JsonValueKind.String => v.GetValue<string>().Trim(),
            _ => null,
        } : null;
        if (text is null || !decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return Fail<decimal?>(name, "must be a non-negative decimal number", null);
        return value.Scale > maxScale && value != decimal.Round(value, maxScale)
            ? Fail<decimal?>(name, $"at most {maxScale} decimals", null)
            : value;
    }

    public long[] LongList(string name, int maxCount)
    {
        var node = obj[name];
        IEnumerable<JsonNode?> items = node switch
        {
            null => [],
            JsonArray array => array.AsEnumerable(),
            // One value, or "1,2,3" from a form.
            JsonValue v when v.GetValueKind() == JsonValueKind.String =>
                v.GetValue<string>().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => (JsonNode)s),
            JsonValue v => [v],
            _ => [],
        };
        var list = new List<long>();
        foreach (var item in items)
        {
            if (!TryGetLong(item, out var value, out var problem))
                return Fail(name, problem, Array.Empty<long>());
            list.Add(value);
        }
        if (list.Count == 0)
            return Fail(name, "required: at least one member", Array.Empty<long>());
        return list.Count > maxCount ? Fail(name, $"at most {maxCount} items", Array.Empty<long>()) : [.. list];
    }

    private static bool TryGetLong(JsonNode? node, out long value, out string problem)
    {
        value = 0;
        problem = "";
        if (node is null)
        {
            problem = "required";
            return false;
        }
        var ok = node is JsonValue v && v.GetValueKind() switch
        {
            JsonValueKind.Number => v.TryGetValue(out value) || TryIntegral(v, out value),
            JsonValueKind.String => long.TryParse(v.GetValue<string>().Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value),
            _ => false,
        };
        if (!ok)
            problem = "must be an integer";
        return ok;
    }

    // A number that only looks fractional, such as 4.0 from a BSON double.
    private static bool TryIntegral(JsonValue v, out long value)
    {
        value = 0;
        if (!decimal.TryParse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            || d != decimal.Truncate(d) || d < long.MinValue || d > long.MaxValue)
            return false;
        value = (long)d;
        return true;
    }

    private T Fail<T>(string name, string problem, T fallback)
    {
        Error ??= Failure.Invalid(name, problem);
        return fallback;
    }
}
