using Microsoft.EntityFrameworkCore;

namespace Patron.Tests.Model;

/// <summary>The service's state at the end of a run, read from its database in the model's wording, with the points' invariants checked.</summary>
public sealed partial class LiveWrites
{
    /// <summary>Read once, after the last operation: equal() may be called once per linearization.</summary>
    public override IReadOnlyList<string> Final()
    {
        lock (_finalLock)
            return _final ??= Task.Run(ReadFinalAsync).GetAwaiter().GetResult();
    }

    private async Task<IReadOnlyList<string>> ReadFinalAsync()
    {
        var ids = (await MembersAsync()).Select(m => m.Id).ToArray();
        return await hosts.App.QueryAsync(db => ReadFinalAsync(db, ids));
    }

    /// <summary>A row's label: its key without the run's prefix, the settling job's bill, or an operator's.</summary>
    private string Label(Patron.Points.PointEntry r) =>
        r.IdempotencyKey is { } key ? key[_ns.Length..] : r.BusiType is "A" or "X" or "L" ? r.BusiBillNum : "adj";

    private async Task<IReadOnlyList<string>> ReadFinalAsync(Patron.Data.PatronDb db, long[] ids)
    {
        var members = await db.Members.AsNoTracking().Where(m => ids.Contains(m.Id)).ToDictionaryAsync(m => m.Id);
        var rows = await db.PointEntries.AsNoTracking().Where(p => ids.Contains(p.MemberId)).OrderBy(p => p.AutoId).ToListAsync();
        var lots = await db.PointLots.AsNoTracking().Where(l => ids.Contains(l.MemberId)).OrderBy(l => l.Id).ToListAsync();
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name);
        var sales = await db.CardSales.AsNoTracking().Where(s => s.SaleNo.StartsWith(_ns)).ToListAsync();
        var cards = await db.MemberCards.AsNoTracking().Include(c => c.Entries).Where(c => ids.Contains(c.MemberId)).ToListAsync();
        var uses = await db.CardUses.AsNoTracking().Where(u => u.UseNo.StartsWith(_ns)).ToListAsync();

        var lines = new List<string>();
        for (var i = 0; i < ids.Length; i++)
        {
            var member = members[ids[i]];
            var own = rows.Where(r => r.MemberId == ids[i]).ToList();
            var ownLots = lots.Where(l => l.MemberId == ids[i]).ToList();
            lines.Add(Say.Member(i, member.Balance, member.LifetimeEarned, member.LevelId, own.Count, Say.Since(World, member.LevelSince)));
            lines.AddRange(own.Select(r => Say.Row(i, r.BusiType, r.ChangeValue, r.BalanceBefore, r.BalanceAfter, r.LevelBefore, r.LevelAfter, Label(r),
                Say.Columns(r.Earned, r.PendingValue, r.Shortfall), Say.At(World, r.CreatedAt))));
            if (World.Start is not null)
                lines.AddRange(ownLots.Select(l => Say.Lot(i, l.ChannelId is { } c ? (channels[c] == "hkl-test" ? 0 : 1) : null, l.BusiType, l.BusiBillNum,
                    l.Amount, l.Remaining, l.Pending, Say.At(World, l.AvailableAt), l.ExpiresAt is { } e ? Say.At(World, e) : "never")));
            // docs/points.md's invariants: lines the model never writes, so a broken one is a difference.
            var available = ownLots.Where(l => !l.Pending).Sum(l => l.Remaining);
            var pending = ownLots.Where(l => l.Pending).Sum(l => l.Remaining);
            if (own.Sum(r => r.ChangeValue) != member.Balance || available != member.Balance)
                lines.Add($"m{i}: the balance {member.Balance}, the ledger's sum {own.Sum(r => r.ChangeValue)}, the available lots' {available}");
            if (own.Sum(r => r.PendingValue) != pending)
                lines.Add($"m{i}: the ledger's pending {own.Sum(r => r.PendingValue)}, the pending lots' {pending}");
            if (own.Sum(r => r.Earned) != member.LifetimeEarned)
                lines.Add($"m{i}: lifetime {member.LifetimeEarned}, the ledger's earned {own.Sum(r => r.Earned)}");
            if (ownLots.Any(l => l.Remaining < 0 || l.Remaining > l.Amount) || own.Any(r => r.Shortfall < 0))
                lines.Add($"m{i}: a lot outside 0..amount or a negative shortfall");
        }
        string CardLine(Patron.Cards.MemberCard c) => Say.Card(Card(c.Id), Patron.Cards.CardViews.Status(c.Status), c.LockVersion, c.BeginTime, c.EndTime,
            c.Entries.OrderBy(e => e.CardProductId, StringComparer.Ordinal).Select(e => Say.Entry(Card(c.Id), e.CardProductId, e.HasUsedNum,
                e.LastCycle, e.LastCycleUsed, e.Posid ?? "", e.LockVersion, Patron.Cards.CardViews.Status(e.Status))));
        foreach (var sale in sales.OrderBy(s => s.SaleNo, StringComparer.Ordinal))
        {
            lines.Add($"{sale.SaleNo[_ns.Length..]}: st {sale.Status} refund {Say.Money(sale.RefundAmt)} num {sale.Num}");
            lines.AddRange(cards.Where(c => c.SaleId == sale.Id).Select(CardLine).Order(StringComparer.Ordinal));
        }
        lines.AddRange(cards.Where(c => sales.All(s => s.Id != c.SaleId)).Select(c => "a card of no sale of this run: " + CardLine(c)));
        var entries = cards.SelectMany(c => c.Entries).ToDictionary(e => e.Id, e => $"{Card(e.MemberCardId)}/{e.CardProductId}");
        lines.AddRange(uses.OrderBy(u => u.UseNo, StringComparer.Ordinal)
            .Select(u => Say.Use(u.UseNo[_ns.Length..], entries.GetValueOrDefault(u.UsageEntryId, "?"), u.Cycle, u.CancelledAt is not null)));
        return lines;
    }
}
