using System.Text.Json;
using System.Text.Json.Serialization;
using Patron.Points.Lots;

namespace Patron.Catalog;

/// <summary>Catalog <c>points</c>: how the chain's points behave. Its expiry absent (or "none"), they never expire.</summary>
public sealed record CatalogPoints([property: JsonConverter(typeof(NoneOrExpiryConverter))] CatalogExpiry? Expiry);

/// <summary>Catalog <c>levelReview</c>: absent, levels only go up.</summary>
public sealed record CatalogLevelReview(int? EveryMonths);

/// <summary>
/// An expiry as the catalog writes it: <c>{"afterDays": N}</c>, <c>{"afterMonths": N, "at": "monthEnd" | "yearEnd"}</c>,
/// or the string <c>"none"</c> (on a channel: its points never expire whatever the catalog's do).
/// </summary>
public sealed record CatalogExpiry(int? AfterDays, int? AfterMonths, string? At)
{
    public const string MonthEnd = "monthEnd";
    public const string YearEnd = "yearEnd";

    // Only the string "none" sets it: it is no field of the object form.
    private readonly bool _none;

    private CatalogExpiry(bool none) : this(null, null, null) => _none = none;

    /// <summary>The string "none".</summary>
    public static readonly CatalogExpiry Never = new(none: true);

    public bool IsNever() => _none;

    /// <summary>Each problem keyed by its field below the expiry ("" for the expiry itself).</summary>
    public IEnumerable<(string Field, string Problem)> Problems()
    {
        if (_none)
            yield break;
        if (AfterDays is null == AfterMonths is null)
            yield return ("", "exactly one of afterDays or afterMonths");
        if (AfterDays is not null and not (>= 1 and <= PointsExpiry.MaxDays))
            yield return ("afterDays", $"1 to {PointsExpiry.MaxDays}");
        if (AfterMonths is not null and not (>= 1 and <= PointsExpiry.MaxMonths))
            yield return ("afterMonths", $"1 to {PointsExpiry.MaxMonths}");
        if (AfterMonths is not null && At is not (MonthEnd or YearEnd))
            yield return ("at", $"required with afterMonths: \"{MonthEnd}\" or \"{YearEnd}\"");
        if (AfterMonths is null && At is not null)
            yield return ("at", "only with afterMonths");
    }

    /// <summary>The policy of an expiry without <see cref="Problems"/>.</summary>
    public PointsExpiry ToPolicy() =>
        _none ? PointsExpiry.Never
        : AfterDays is { } days ? PointsExpiry.AfterDays(days)
        : PointsExpiry.AfterMonths(AfterMonths!.Value, At == YearEnd);
}

/// <summary>
/// An <c>expiry</c>: the object of <see cref="CatalogExpiry"/>, or the string "none". The object is read
/// here, not by a nested serializer, so that an error keeps its path in the catalog. Each message ends
/// with a full stop: the catalog's error line keeps the first sentence of the serializer's message.
/// </summary>
public sealed class NoneOrExpiryConverter : JsonConverter<CatalogExpiry>
{
    public override CatalogExpiry? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("none"))
            return CatalogExpiry.Never;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("must be \"none\" or an object such as {\"afterDays\": 365} or {\"afterMonths\": 12, \"at\": \"monthEnd\"}.");
        var comparison = options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        int? days = null, months = null;
        string? at = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (name.Equals("afterDays", comparison))
                days = Count(ref reader, "afterDays");
            else if (name.Equals("afterMonths", comparison))
                months = Count(ref reader, "afterMonths");
            else if (name.Equals("at", comparison))
                at = reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.String => reader.GetString(),
                    _ => throw new JsonException($"at must be \"{CatalogExpiry.MonthEnd}\" or \"{CatalogExpiry.YearEnd}\"."),
                };
            else
                throw new JsonException($"unknown field '{name}'; known: afterDays, afterMonths, at.");
        }
        return new CatalogExpiry(days, months, at);
    }

    private static int? Count(ref Utf8JsonReader reader, string field) =>
        reader.TokenType == JsonTokenType.Null ? null
        : reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n) ? n
        : throw new JsonException($"{field} must be a whole number.");

    public override void Write(Utf8JsonWriter writer, CatalogExpiry value, JsonSerializerOptions options)
    {
        if (value.IsNever())
        {
            writer.WriteStringValue("none");
            return;
        }
        writer.WriteStartObject();
        if (value.AfterDays is { } days)
            writer.WriteNumber("afterDays", days);
        if (value.AfterMonths is { } months)
            writer.WriteNumber("afterMonths", months);
        if (value.At is { } at)
            writer.WriteString("at", at);
        writer.WriteEndObject();
    }
}

/// <summary>The checks of the lifecycle settings, named by their paths as the rest of the catalog's are.</summary>
public static class CatalogPointsRules
{
    public static IEnumerable<(string Where, string Problem)> Problems(CatalogPoints? points, CatalogLevelReview? review)
    {
        foreach (var problem in ExpiryProblems(points?.Expiry, "points.expiry"))
            yield return problem;
        if (review is not null && review.EveryMonths is not (>= 1 and <= LevelReview.MaxMonths))
            yield return ("levelReview.everyMonths", $"required, 1 to {LevelReview.MaxMonths}");
    }

    public static IEnumerable<(string Where, string Problem)> ExpiryProblems(CatalogExpiry? expiry, string at) =>
        (expiry?.Problems() ?? []).Select(p => (p.Field.Length == 0 ? at : $"{at}.{p.Field}", p.Problem));
}
