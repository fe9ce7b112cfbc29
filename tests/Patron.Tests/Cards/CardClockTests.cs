using Microsoft.Extensions.Time.Testing;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Cards;

/// <summary>Uses without a useTime happen "now": the server's clock, moved here by a FakeTimeProvider.</summary>
public abstract class CardClockTests(Backend backend) : PatronTest(backend)
{
    // Monday 2026-01-05 09:00 in Shanghai.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 5, 9, 0, 0, TimeSpan.FromHours(8)).ToUniversalTime());

    protected override TimeProvider? Clock => _clock;

    [Fact]
    public async Task UsesWithoutAUseTimeCountInTheCycleOfTheServerClock()
    {
        var openApi = new OpenApiClient(App.CreateClient(), _clock);
        var card = (await openApi.SellAsync("S-1", saleTime: "2026-01-05 08:30:00")).Data!["id"]!.GetValue<string>();

        var first = await openApi.UseAsync(card, "U-1", useTime: null);
        _clock.Advance(TimeSpan.FromDays(6) + TimeSpan.FromHours(14) + TimeSpan.FromMinutes(59));   // Sunday 23:59
        var second = await openApi.UseAsync(card, "U-2", useTime: null);
        var third = await openApi.UseAsync(card, "U-3", useTime: null);
        _clock.Advance(TimeSpan.FromMinutes(1));                                                        // Monday 00:00, cycle 2
        var fourth = await openApi.UseAsync(card, "U-4", useTime: null);
        _clock.Advance(TimeSpan.FromDays(30));
        var expired = await openApi.UseAsync(card, "U-5", useTime: null);

        Assert.Equal([0, 0, 2103, 0, 2102], new[] { first.Code, second.Code, third.Code, fourth.Code, expired.Code });
        Assert.Equal((2, 1), (fourth.Data!["lastCycle"]!.GetValue<int>(), fourth.Data["lastCycleUsed"]!.GetValue<int>()));
    }

    [Fact]
    public async Task TheTimestampWindowFollowsTheServerClock()
    {
        var openApi = new OpenApiClient(App.CreateClient(), _clock);
        var stale = openApi.Now();
        _clock.Advance(TimeSpan.FromSeconds(301));

        var answer = await openApi.CallAsync("queryMncardByMember", """{"memberId":"M0001"}""", stale);

        Assert.Equal(1002, answer.Code);
    }
}

public sealed class CardClockTestsOnSqlite() : CardClockTests(Backend.Sqlite);

public sealed class CardClockTestsOnPostgres() : CardClockTests(Backend.Postgres);
