using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Patron.Channels;
using Patron.Data;
using Patron.Members;
using Patron.Points.Lots;
using Patron.Tests.Infrastructure;

namespace Patron.Tests.Members;

/// <summary>
/// A detail reads its member, its lots and, when they are more than the list holds, their sums on
/// one connection: taking it anew for each query, at a full pool it waited in line between them
/// holding its lots.
/// </summary>
public abstract class MemberDetailConnectionTests(Backend backend) : PatronTest(backend)
{
    protected override bool BalancesAreTheirLots => false;

    [Fact]
    public async Task ADetailReadsItsMemberLotsAndSumsOnOneConnection()
    {
        const long member = 9;
        var now = TestWorld.Clock.GetUtcNow();
        await App.QueryAsync(db =>
        {
            db.PointLots.AddRange(Enumerable.Range(0, MemberPoints.MaxLots + 5).Select(i => new PointLot
            {
                MemberId = member, BusiType = "S", BusiBillNum = $"N-{i}", Amount = 1, Remaining = 1,
                EarnedAt = now.AddDays(-1), AvailableAt = now.AddDays(-1), ExpiresAt = now.AddDays(10),
            }));
            return db.SaveChangesAsync();
        });
        await using var scope = App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
        var opened = 0;
        db.Database.GetDbConnection().StateChange += (_, e) => opened += e.CurrentState == ConnectionState.Open ? 1 : 0;

        var detail = await MemberPoints.DetailAsync(db, scope.ServiceProvider.GetRequiredService<ChannelDirectory>(), member, now, default);

        Assert.NotNull(detail);
        Assert.True(detail.Value.Lots.Capped);
        Assert.Equal(MemberPoints.MaxLots + 5, detail.Value.Points.Expiring);
        Assert.Equal(1, opened);
        Assert.Equal(ConnectionState.Closed, db.Database.GetDbConnection().State);
    }
}

public sealed class MemberDetailConnectionTestsOnSqlite() : MemberDetailConnectionTests(Backend.Sqlite);

public sealed class MemberDetailConnectionTestsOnPostgres() : MemberDetailConnectionTests(Backend.Postgres);
