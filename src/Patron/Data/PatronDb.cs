using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Patron.Cards;
using Patron.Channels;
using Patron.Console;
using Patron.Levels;
using Patron.Members;
using Patron.Points;
using Patron.Points.Lots;

namespace Patron.Data;

/// <summary>
/// The one EF Core model. Each provider has a subclass only so that it can own its own
/// migrations set (Data/Migrations/Sqlite, Data/Migrations/Postgres); handlers take PatronDb.
/// </summary>
public abstract class PatronDb(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<Setting> Settings => Set<Setting>();
    public DbSet<Level> Levels => Set<Level>();
    public DbSet<Member> Members => Set<Member>();
    public DbSet<MemberLog> MemberLogs => Set<MemberLog>();
    public DbSet<PointEntry> PointEntries => Set<PointEntry>();
    public DbSet<PointLot> PointLots => Set<PointLot>();
    public DbSet<Channel> Channels => Set<Channel>();
    public DbSet<Card> Cards => Set<Card>();
    public DbSet<CardProduct> CardProducts => Set<CardProduct>();
    public DbSet<Operator> Operators => Set<Operator>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<CardSale> CardSales => Set<CardSale>();
    public DbSet<MemberCard> MemberCards => Set<MemberCard>();
    public DbSet<UsageEntry> UsageEntries => Set<UsageEntry>();
    public DbSet<CardUse> CardUses => Set<CardUse>();
    public DbSet<CardUseLog> CardUseLogs => Set<CardUseLog>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<Events.OutboxEvent> OutboxEvents => Set<Events.OutboxEvent>();
    public DbSet<Events.Webhook> Webhooks => Set<Events.Webhook>();
    public DbSet<Events.WebhookDelivery> WebhookDeliveries => Set<Events.WebhookDelivery>();
    public DbSet<Events.WebhookAttempt> WebhookAttempts => Set<Events.WebhookAttempt>();

    protected override void OnModelCreating(ModelBuilder model)
    {
        model.Entity<Setting>(e =>
        {
            e.ToTable("settings");
            e.HasKey(s => s.Key);
            e.Property(s => s.Key).HasMaxLength(64);
            e.Property(s => s.Value).HasMaxLength(256);
        });
        model.Entity<Level>(e =>
        {
            e.ToTable("levels");
            e.Property(l => l.Id).ValueGeneratedNever();
            e.Property(l => l.Name).HasMaxLength(64);
        });
        model.Entity<Member>(e =>
        {
            e.ToTable("members");
            e.Property(m => m.Id).ValueGeneratedNever();
            e.Property(m => m.Code).HasMaxLength(32);
            e.HasIndex(m => m.Code).IsUnique();
            e.Property(m => m.Name).HasMaxLength(100);
            e.Property(m => m.Phone).HasMaxLength(32);
            e.HasIndex(m => m.Phone);
            e.HasIndex(m => m.LevelSince); // the settling job's reviews that fall due
        });
        model.Entity<MemberLog>(e =>
        {
            e.ToTable("member_log");
            e.Property(l => l.Kind).HasMaxLength(32);
            e.Property(l => l.FromValue).HasMaxLength(64);
            e.Property(l => l.ToValue).HasMaxLength(64);
            e.Property(l => l.Actor).HasMaxLength(100);
            e.HasIndex(l => new { l.MemberId, l.Id });
        });
        model.Entity<PointEntry>(e =>
        {
            e.ToTable("point_ledger");
            e.HasKey(p => p.AutoId);
            e.Property(p => p.BusiType).HasMaxLength(1);
            e.Property(p => p.BusiBillNum).HasMaxLength(20);
            e.Property(p => p.Actor).HasMaxLength(100);
            e.Property(p => p.IdempotencyKey).HasMaxLength(PointRules.MaxIdempotencyKeyLength);
            e.Property(p => p.RequestHash).HasMaxLength(64);
            e.HasIndex(p => new { p.MemberId, p.AutoId });
            e.HasIndex(p => p.CreatedAt); // BRIN on PostgreSQL (PostgresPatronDb), a B-tree on SQLite
            // Exactly-once lives here: one ledger row per (channel, key). NULL keys never collide.
            e.HasIndex(p => new { p.ChannelId, p.IdempotencyKey }).IsUnique();
            // An operator's key is the operator's own; a channel's rows never match this index.
            e.HasIndex(p => new { p.Actor, p.IdempotencyKey }).IsUnique()
                .HasFilter("channel_id IS NULL AND idempotency_key IS NOT NULL").HasDatabaseName("ux_point_ledger_operator_key");
        });
        model.Entity<PointLot>(e =>
        {
            e.ToTable("point_lots");
            e.Property(p => p.BusiType).HasMaxLength(1);
            e.Property(p => p.BusiBillNum).HasMaxLength(20);
            // A member's live lots, in the order a detail view lists them (MemberPoints.LiveLots), so that the list of
            // the first 200 stops there; spent lots stay as history but drop out of every index here. An index on an
            // expression (never-expiring lots last), which the model cannot state: the LiveLotsInListOrder migrations.
            // What the settling job looks for: lots that expire, and pending lots that become available. Lots that
            // never expire, the default, stay out of the first, so an earning under it costs one index the less.
            e.HasIndex(p => p.ExpiresAt).HasFilter("remaining > 0 AND NOT pending AND expires_at IS NOT NULL").HasDatabaseName("ix_point_lots_expiring");
            e.HasIndex(p => p.AvailableAt).HasFilter("remaining > 0 AND pending").HasDatabaseName("ix_point_lots_pending");
        });
        model.Entity<Channel>(e =>
        {
            e.ToTable("channels");
            e.Property(c => c.Name).HasMaxLength(64);
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.ApiKeyHash).HasMaxLength(64);
            e.HasIndex(c => c.ApiKeyHash).IsUnique();
            e.Property(c => c.DesKey).HasMaxLength(1024); // encrypted: ChannelSecrets
            e.Property(c => c.Cipher).HasMaxLength(16);
            e.Property(c => c.Scopes).HasMaxLength(512);
            e.Property(c => c.MaxUseAgeDays).HasDefaultValue(Channel.DefaultMaxAgeDays);
            e.Property(c => c.MaxSaleAgeDays).HasDefaultValue(Channel.DefaultMaxAgeDays);
            e.Property(c => c.Expiry).HasMaxLength(32);
        });
        model.Entity<Card>(e =>
        {
            e.ToTable("cards");
            e.Property(c => c.Id).HasMaxLength(32);
            e.Property(c => c.Name).HasMaxLength(100);
            e.Property(c => c.Price).HasPrecision(18, 2);
            e.Property(c => c.RefundPolicy).HasMaxLength(16).HasDefaultValue(RefundPolicies.Full);
            e.HasMany(c => c.Products).WithOne().HasForeignKey(p => p.CardId);
        });
        model.Entity<CardProduct>(e =>
        {
            e.ToTable("card_products");
            e.HasKey(p => new { p.CardId, p.Id });
            e.Property(p => p.CardId).HasMaxLength(32);
            e.Property(p => p.Id).HasMaxLength(32);
            e.Property(p => p.Name).HasMaxLength(100);
        });
        model.Entity<CardSale>(e =>
        {
            e.ToTable("card_sales");
            e.Property(x => x.ChannelName).HasMaxLength(64);
            e.Property(x => x.SaleNo).HasMaxLength(64);
            e.HasIndex(x => new { x.ChannelId, x.SaleNo }).IsUnique(); // one sale per saleNo, across instances
            e.Property(x => x.CardInfoId).HasMaxLength(32);
            e.Property(x => x.MemberCode).HasMaxLength(32);
            e.Property(x => x.PayAmt).HasPrecision(18, 2);
            e.Property(x => x.RefundAmt).HasPrecision(18, 2);
            e.Property(x => x.SaleUser).HasMaxLength(64);
            e.Property(x => x.SaleOrgCode).HasMaxLength(64);
            e.Property(x => x.RequestHash).HasMaxLength(64);
            e.HasIndex(x => x.SaleTime);
        });
        model.Entity<MemberCard>(e =>
        {
            e.ToTable("member_cards");
            e.Property(x => x.Id).HasMaxLength(16);
            e.Property(x => x.CardInfoId).HasMaxLength(32);
            e.Property(x => x.MemberCode).HasMaxLength(32);
            e.Property(x => x.TimeZone).HasMaxLength(64);
            e.HasIndex(x => x.MemberId);
            e.HasIndex(x => x.SaleId);
            e.HasMany(x => x.Entries).WithOne().HasForeignKey(x => x.MemberCardId);
        });
        model.Entity<UsageEntry>(e =>
        {
            e.ToTable("usage_entries");
            e.Property(x => x.Id).HasMaxLength(16);
            e.Property(x => x.MemberCardId).HasMaxLength(16);
            e.Property(x => x.CardProductId).HasMaxLength(32);
            e.Property(x => x.CardProductName).HasMaxLength(100);
            e.Property(x => x.Posid).HasMaxLength(64);
            // Compare-and-set: every update says WHERE lock_version = <the version read>.
            e.Property(x => x.LockVersion).IsConcurrencyToken();
            e.HasIndex(x => new { x.MemberCardId, x.CardProductId }).IsUnique();
        });
        model.Entity<CardUse>(e =>
        {
            e.ToTable("card_uses");
            e.Property(x => x.UseNo).HasMaxLength(64);
            e.HasIndex(x => new { x.ChannelId, x.UseNo }).IsUnique(); // a useNo counts once
            e.Property(x => x.UsageEntryId).HasMaxLength(16);
            e.Property(x => x.MemberCardId).HasMaxLength(16);
            e.Property(x => x.Posid).HasMaxLength(64);
            e.Property(x => x.RequestHash).HasMaxLength(64);
            e.HasIndex(x => new { x.UsageEntryId, x.Cycle });
            e.HasIndex(x => x.UseTime);
        });
        model.Entity<CardUseLog>(e =>
        {
            e.ToTable("card_use_log");
            e.Property(x => x.UsageEntryId).HasMaxLength(16);
            e.Property(x => x.Kind).HasMaxLength(16);
            e.Property(x => x.UseNo).HasMaxLength(64);
            e.Property(x => x.Posid).HasMaxLength(64);
            e.HasIndex(x => x.UsageEntryId);
        });
        model.Entity<Operator>(e =>
        {
            e.ToTable("operators");
            e.HasKey(o => o.UserName);
            e.Property(o => o.UserName).HasMaxLength(64);
            e.Property(o => o.PasswordHash).HasMaxLength(256);
            e.Property(o => o.Role).HasMaxLength(16);
            e.Property(o => o.ApiTokenHash).HasMaxLength(64);
            e.HasIndex(o => o.ApiTokenHash).IsUnique();
        });
        model.Entity<DataProtectionKey>(e => e.ToTable("data_protection_keys"));
        model.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.Property(a => a.Actor).HasMaxLength(100);
            e.Property(a => a.Action).HasMaxLength(64);
            e.Property(a => a.Entity).HasMaxLength(32);
            e.Property(a => a.EntityId).HasMaxLength(64);
            e.HasIndex(a => new { a.Entity, a.EntityId });
        });

        Events.EventsModel.Configure(model);

        // snake_case columns, so that hand-written SQL reads the same on both providers.
        foreach (var entity in model.Model.GetEntityTypes())
            foreach (var property in entity.GetProperties())
                property.SetColumnName(SnakeCase(property.Name));
    }

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

public sealed class SqlitePatronDb(DbContextOptions<SqlitePatronDb> options) : PatronDb(options)
{
    // SQLite has no time type; stored as sortable integers, instants can be compared and ordered in SQL.
    protected override void ConfigureConventions(ModelConfigurationBuilder conventions) =>
        conventions.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
}

public sealed class PostgresPatronDb(DbContextOptions<PostgresPatronDb> options) : PatronDb(options)
{
    protected override void OnModelCreating(ModelBuilder model)
    {
        base.OnModelCreating(model);
        // Only the dashboard's day ranges read the ledger by time, and rows arrive in time order: a BRIN index
        // serves those ranges at a few pages per million rows, where a B-tree costs every points add an insert.
        model.Entity<PointEntry>().HasIndex(p => p.CreatedAt).HasMethod("brin");
    }
}

public sealed class Setting
{
    public required string Key { get; set; }
    public required string Value { get; set; }
}
