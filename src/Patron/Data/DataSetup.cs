using System.Data.Common;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
using Patron.Cards;
using Patron.Catalog;
using Patron.Channels;
using Patron.Events.Webhooks;
using Patron.Points;
using Patron.Points.Lots;
using Patron.Writes;

namespace Patron.Data;

/// <summary>Where Patron keeps its data: <c>--storage sqlite|postgres</c> and <c>--connection</c>.</summary>
public sealed class StorageOptions
{
    public const string DefaultSqlite = "Data Source=data/patron.db";

    public string Storage { get; set; } = "sqlite";
    public string? Connection { get; set; }

    /// <summary>A catalog file (SPEC §6) to apply at start-up.</summary>
    public string? Catalog { get; set; }
}

public static class DataSetup
{
    public static WebApplicationBuilder AddPatronData(this WebApplicationBuilder builder)
    {
        var options = new StorageOptions();
        builder.Configuration.Bind(options);
        builder.Services.AddSingleton(options);
        var groupCommit = new GroupCommitOptions();
        builder.Configuration.GetSection("GroupCommit").Bind(groupCommit);
        builder.Services.AddSingleton(groupCommit);
        var checks = !builder.Environment.IsProduction();
        switch (options.Storage)
        {
            case "sqlite":
                var sqlite = new SqliteConnectionStringBuilder(options.Connection ?? StorageOptions.DefaultSqlite);
                if (Path.GetDirectoryName(Path.GetFullPath(sqlite.DataSource)) is { } folder)
                    Directory.CreateDirectory(folder);
                builder.Services.AddDbContextPool<PatronDb, SqlitePatronDb>(o =>
                    Configure(o.UseSqlite(sqlite.ToString()).AddInterceptors(new SqlitePragmas()), checks));
                builder.Services.AddSingleton(sqlite);
                builder.Services.AddHostedService<SqliteCheckpointer>();
                builder.Services.AddSingleton<WriterConnections>(_ => new SqliteWriterConnections(sqlite));
                builder.Services.AddWriteStores<SqlitePointsStore, SqliteCardSaleStore, SqliteCardUseStore, SqliteCardCancelStore, SqliteCardRefundStore>();
                break;
            case "postgres":
                var connection = options.Connection
                    ?? throw new InvalidOperationException("--storage postgres needs --connection \"Host=…;Database=…;Username=…\"");
                builder.Services.AddSingleton(_ => ReadConnections(connection));
                builder.Services.AddDbContextPool<PatronDb, PostgresPatronDb>((sp, o) =>
                    Configure(o.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()), checks));
                // Made by the container, so that it disposes the pool with the host.
                builder.Services.AddSingleton<WriterConnections>(_ => new PostgresWriterConnections(connection));
                builder.Services.AddWriteStores<PostgresPointsStore, PostgresCardSaleStore, PostgresCardUseStore, PostgresCardCancelStore,
                    PostgresCardRefundStore>();
                break;
            default:
                throw new InvalidOperationException($"--storage must be sqlite or postgres, not '{options.Storage}'");
        }
        builder.Services.AddSingleton<WritePressure>();
        builder.Services.AddSingleton<PointsWrites>();
        var settle = new SettleOptions();
        builder.Configuration.GetSection("Points").Bind(settle);
        builder.Services.AddSingleton(settle);
        builder.Services.AddSingleton<PointsSettler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PointsSettler>());
        builder.Services.AddSingleton<CardSaleWrites>();
        builder.Services.AddSingleton<CardUseWrites>();
        builder.Services.AddSingleton<CardCancelWrites>();
        builder.Services.AddSingleton<CardRefundWrites>();
        builder.Services.AddScoped<CatalogApplier>();
        // One key ring for every instance and restart: in the database, next to what it protects.
        builder.Services.AddDataProtection().SetApplicationName("Patron").PersistKeysToDbContext<PatronDb>();
        builder.Services.AddSingleton<ChannelSecrets>();
        builder.Services.AddSingleton<Events.Webhooks.WebhookSecrets>();
        builder.AddPatronWebhooks(options.Storage);
        // At Debug the key-ring store prints each key's XML, key material included.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.EntityFrameworkCore", LogLevel.Information);
        builder.Services.AddSingleton<DatabaseProbe>();
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database");
        return builder;
    }

    /// <summary>Each write's store in one dialect: the one part of a write that differs between them.</summary>
    private static void AddWriteStores<TPoints, TSale, TUse, TCancel, TRefund>(this IServiceCollection services)
        where TPoints : class, IWriteStore<PointChange, PointsBatchState, PointsBatchPlan>
        where TSale : class, IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan>
        where TUse : class, IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan>
        where TCancel : class, IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan>
        where TRefund : class, IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan>
    {
        services.AddSingleton<IWriteStore<PointChange, PointsBatchState, PointsBatchPlan>, TPoints>();
        services.AddSingleton<IWriteStore<SaleCall, CardSaleBatchState, CardSaleBatchPlan>, TSale>();
        services.AddSingleton<IWriteStore<CardUseCall, CardUseBatchState, CardUseBatchPlan>, TUse>();
        services.AddSingleton<IWriteStore<CardCancelCall, CardCancelBatchState, CardCancelBatchPlan>, TCancel>();
        services.AddSingleton<IWriteStore<CardRefundCall, CardRefundBatchState, CardRefundBatchPlan>, TRefund>();
    }

    /// <summary>
    /// The pool EF and the background jobs share. Nothing here leaves session state behind (the
    /// start-up lock is released by hand, the import's temporary table goes at commit), so its
    /// connections are kept as the writers' are (<see cref="KeepingSessions"/>).
    /// </summary>
    public static NpgsqlDataSource ReadConnections(string connection)
    {
        var builder = KeepingSessions(connection, prepared: 64);
        builder.Options = WithoutJit(builder.Options);
        return NpgsqlDataSource.Create(builder);
    }

    /// <summary>
    /// A connection's options with PostgreSQL's JIT compiler off. It pays for itself on analytic
    /// queries of seconds; this service's statements take milliseconds. And the planner prices a
    /// plan node turned off by a setting (the dispatcher's <c>SET LOCAL enable_seqscan = off</c>) at
    /// 10^10, far past <c>jit_above_cost</c>: with JIT on, its statements were compiled at every
    /// run, 150 ms of CPU for a read of an empty outbox.
    /// </summary>
    public static string WithoutJit(string? options) => $"{options} -c jit=off".Trim();

    /// <summary>
    /// A pool whose connections go back without Npgsql's DISCARD ALL, which would be a round trip
    /// per command and throw away the session's prepared statements: each statement would be parsed
    /// and planned again. Statements used often are prepared, up to <paramref name="prepared"/> per
    /// connection, unless the connection string says otherwise. For pools whose users leave no
    /// session state behind.
    /// </summary>
    public static NpgsqlConnectionStringBuilder KeepingSessions(string connection, int prepared)
    {
        var builder = new NpgsqlConnectionStringBuilder(connection) { NoResetOnClose = true };
        if (builder.MaxAutoPrepare == 0) // Npgsql's default: prepare nothing
            builder.MaxAutoPrepare = prepared;
        return builder;
    }

    /// <summary>
    /// A failed command, query or save is not logged by EF: the exception reaches the caller, which
    /// handles it (a lost race is retried) or lets it escape to <see cref="PatronExceptionHandler"/>,
    /// which logs it once with the request's trace id, or as an outage (<see cref="StorageFault"/>).
    /// Otherwise a database that is down would log four stack traces per request.
    /// </summary>
    /// <remarks>
    /// EF's thread-safety check, which throws when one context is used by two operations at once,
    /// allocates for every row a query reads (an async-local value each time): on a member's detail
    /// of 150 lots, about half of what the request allocated
    /// (bench/results/member-detail-alloc-2026-12-07.md). It guards against a bug, not bad input:
    /// the tests and development keep it, production does not.
    /// </remarks>
    private static DbContextOptionsBuilder Configure(DbContextOptionsBuilder options, bool threadSafetyChecks) =>
        options.EnableThreadSafetyChecks(threadSafetyChecks).ConfigureWarnings(w => w.Ignore(RelationalEventId.ConnectionError,
            RelationalEventId.CommandError, CoreEventId.QueryIterationFailed, CoreEventId.SaveChangesFailed));

    /// <summary>Start-up work of one instance at a time: <c>pg_advisory_lock</c> takes a 64-bit key; this is "Patron" in ASCII.</summary>
    private const long StartUpLock = 0x50_61_74_72_6F_6E;

    /// <summary>
    /// Migrates the schema, then applies the catalog, before the service takes requests. Instances
    /// that start together on one PostgreSQL take turns, so the schema, the Data Protection key and
    /// the catalog are each settled once, by the first.
    /// </summary>
    public static async Task PreparePatronAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<StorageOptions>();
        var catalog = options.Catalog is { } path ? CatalogFile.Load(path) : null;
        await using var turn = app.Services.GetService<NpgsqlDataSource>() is { } postgres ? await postgres.OpenConnectionAsync() : null;
        if (turn is not null)
            await AdvisoryAsync(turn, "pg_advisory_lock", app.Lifetime.ApplicationStopping);
        try
        {
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<PatronDb>();
            if (db is SqlitePatronDb)
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;");
            await db.Database.MigrateAsync();
            await app.Services.GetRequiredService<ChannelSecrets>().PrepareAsync(db, app.Lifetime.ApplicationStopping);
            if (catalog is not null)
                await scope.ServiceProvider.GetRequiredService<CatalogApplier>().ApplyAsync(catalog, app.Lifetime.ApplicationStopping);
        }
        finally
        {
            // Closing returns the connection to the pool, which keeps the session and its lock: unlock now.
            if (turn is not null)
                await AdvisoryAsync(turn, "pg_advisory_unlock", CancellationToken.None);
        }
    }

    private static async Task AdvisoryAsync(NpgsqlConnection connection, string function, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand($"SELECT {function}({StartUpLock})", connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(ct);
    }

    public static IEndpointConventionBuilder MapHealth(this IEndpointRouteBuilder routes) =>
        routes.MapHealthChecks("/health").WithTags("Operations");

    /// <summary>Each SQLite connection waits for the write lock instead of failing at once.</summary>
    private sealed class SqlitePragmas : DbConnectionInterceptor
    {
        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = SqliteCheckpointer.ConnectionPragmas;
            await command.ExecuteNonQueryAsync(ct);
        }

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = SqliteCheckpointer.ConnectionPragmas;
            command.ExecuteNonQuery();
        }
    }
}
