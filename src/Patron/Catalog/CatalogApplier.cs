using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Channels;
using Patron.Console;
using Patron.Data;
using Patron.Events.Webhooks;
using Patron.Levels;
using Patron.Members;
using Patron.Points.Lots;

namespace Patron.Catalog;

/// <summary>
/// Applies a catalog as an upsert by id, in one transaction. Applying the same file again
/// changes nothing: EF writes only properties whose values differ, and a password that still
/// verifies keeps its hash.
/// </summary>
public sealed class CatalogApplier(PatronDb db, IPasswordHasher<Operator> hasher, ChannelSecrets secrets, WebhookSecrets webhookSecrets, TimeProvider clock)
{
    public const string DefaultTimeZone = "Asia/Shanghai";

    public async Task ApplyAsync(CatalogFile catalog, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (db is PostgresPatronDb)
            await db.Database.ExecuteSqlRawAsync("SELECT pg_advisory_xact_lock(726100)", ct); // instances starting together

        var now = clock.GetUtcNow();
        await SetAsync(SettingKeys.TimeZone, catalog.TimeZone, ct);
        await SetAsync(SettingKeys.LevelBasis, catalog.LevelBasis, ct);
        // Unlike the time zone, a lifecycle setting left out means its default (never, no reviews), so it is removed.
        await SetOrRemoveAsync(SettingKeys.PointsExpiry, catalog.Points?.Expiry?.ToPolicy() is { Kind: not ExpiryKind.None } expiry ? expiry.ToText() : null, ct);
        await SetOrRemoveAsync(SettingKeys.LevelReviewMonths,
            catalog.LevelReview?.EveryMonths?.ToString(CultureInfo.InvariantCulture), ct);

        foreach (var l in catalog.Levels ?? [])
        {
            var level = await db.Levels.FindAsync([(byte)l.Id!.Value], ct) ?? db.Levels.Add(new Level { Id = (byte)l.Id!.Value, Name = "" }).Entity;
            (level.Name, level.Threshold) = (l.Name!, l.Threshold!.Value);
        }
        await db.SaveChangesAsync(ct);
        var levels = await LevelTable.LoadAsync(db, ct);

        foreach (var c in catalog.Channels ?? [])
        {
            var channel = await db.Channels.SingleOrDefaultAsync(x => x.Name == c.Name, ct)
                ?? db.Channels.Add(new Channel { Name = c.Name!, ApiKeyHash = "", DesKey = "", Cipher = "", Scopes = "", CreatedAt = now }).Entity;
            channel.ApiKeyHash = ChannelAuth.HashApiKey(c.ApiKey!);
            // Encrypting again would store a different ciphertext of the same key: only a changed key is written.
            if (channel.DesKey.Length == 0 || secrets.Reveal(channel.DesKey) != c.DesKey)
                channel.DesKey = secrets.Protect(c.DesKey!);
            channel.Cipher = c.Cipher ?? "des-ecb";
            channel.Scopes = string.Join(' ', c.Scopes ?? []);
            channel.BillNumIsKey = c.BillNumIsKey ?? false;
            channel.MaxUseAgeDays = c.MaxUseAgeDays ?? Channel.DefaultMaxAgeDays;
            channel.MaxSaleAgeDays = c.MaxSaleAgeDays ?? Channel.DefaultMaxAgeDays;
            (channel.RatePerSecond, channel.RateBurst) = (c.RateLimit?.PerSecond, c.RateLimit?.Burst);
            channel.PendingDays = c.PendingDays ?? 0;
            channel.Expiry = c.Expiry?.ToPolicy().ToText();
        }

        // The catalog's members are looked up a thousand at a time, not one query each.
        var existing = new Dictionary<long, Member>();
        foreach (var chunk in (catalog.Members ?? []).Select(m => m.Id!.Value).Chunk(1_000))
            foreach (var found in await db.Members.Where(m => chunk.Contains(m.Id)).ToListAsync(ct))
                existing[found.Id] = found;
        foreach (var m in catalog.Members ?? [])
        {
            var member = existing.GetValueOrDefault(m.Id!.Value);
            if (member is null)
            {
                // A catalog's level is only where a new member starts; later it is the ledger's to move.
                member = db.Members.Add(new Member { Id = m.Id.Value, Code = m.Code!, CreatedAt = now, LevelSince = now }).Entity;
                member.LevelId = m.Level is { } given ? (byte)given : levels.LevelFor(0);
            }
            (member.Code, member.Name, member.Phone) = (m.Code!, m.Name, m.Phone);
        }

        foreach (var c in catalog.Cards ?? [])
        {
            var card = await db.Cards.Include(x => x.Products).SingleOrDefaultAsync(x => x.Id == c.Id, ct)
                ?? db.Cards.Add(new Card { Id = c.Id!, Name = "" }).Entity;
            (card.Name, card.Price, card.ValidDays, card.OnSale) = (c.Name!, c.Price!.Value, c.ValidDays!.Value, c.OnSale ?? true);
            card.RefundPolicy = c.Refund ?? RefundPolicies.Full;
            foreach (var p in c.Products ?? [])
            {
                var product = card.Products.SingleOrDefault(x => x.Id == p.Id);
                if (product is null)
                    card.Products.Add(product = new CardProduct { CardId = card.Id, Id = p.Id!, Name = "" });
                (product.Name, product.TotalUsedNum, product.CycleDays, product.CycleNum) =
                    (p.Name!, p.TotalUsedNum!.Value, p.CycleDays!.Value, p.CycleNum!.Value);
            }
        }

        foreach (var a in catalog.Admins ?? [])
        {
            var op = await db.Operators.FindAsync([a.User!], ct)
                ?? db.Operators.Add(new Operator { UserName = a.User!, PasswordHash = "", Role = "", CreatedAt = now }).Entity;
            op.Role = a.Role ?? "admin";
            if (a.ApiToken is not null)
                op.ApiTokenHash = ChannelAuth.HashApiKey(a.ApiToken);
            if (op.PasswordHash.Length == 0 || hasher.VerifyHashedPassword(op, op.PasswordHash, a.Password!) == PasswordVerificationResult.Failed)
                op.PasswordHash = hasher.HashPassword(op, a.Password!);
        }

        await CatalogWebhooks.ApplyAsync(db, webhookSecrets, catalog.Webhooks, now, ct);

        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private async Task SetAsync(string key, string? value, CancellationToken ct)
    {
        if (value is null)
            return;
        var setting = await db.Settings.FindAsync([key], ct) ?? db.Settings.Add(new Setting { Key = key, Value = value }).Entity;
        setting.Value = value;
    }

    private async Task SetOrRemoveAsync(string key, string? value, CancellationToken ct)
    {
        if (value is not null)
            await SetAsync(key, value, ct);
        else if (await db.Settings.FindAsync([key], ct) is { } setting)
            db.Settings.Remove(setting);
    }
}
