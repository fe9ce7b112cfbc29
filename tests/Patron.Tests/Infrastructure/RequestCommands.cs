using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Patron.Data;

namespace Patron.Tests.Infrastructure;

/// <summary>
/// The SQL commands EF sends while a request is being served, by request path: what a read costs
/// in round trips. Commands of background jobs (no request) are not counted.
/// </summary>
public sealed class RequestCommands(IHttpContextAccessor http) : DbCommandInterceptor
{
    private readonly ConcurrentQueue<(string Path, Command Command)> _commands = new();

    /// <summary>A command's text and its parameters' values, as sent: enough to ask the database for its plan.</summary>
    public sealed record Command(string Sql, IReadOnlyList<(string Name, object? Value)> Parameters);

    /// <summary>Adds the counter to a host's contexts: call from <c>ConfigureHost</c>.</summary>
    public static void AddTo(IWebHostBuilder builder, string storage) => builder.ConfigureServices(services =>
    {
        services.AddHttpContextAccessor();
        services.AddSingleton<RequestCommands>();
        if (storage == "sqlite")
            services.ConfigureDbContext<SqlitePatronDb>((sp, o) => o.AddInterceptors(sp.GetRequiredService<RequestCommands>()));
        else
            services.ConfigureDbContext<PostgresPatronDb>((sp, o) => o.AddInterceptors(sp.GetRequiredService<RequestCommands>()));
    });

    public void Clear() => _commands.Clear();

    public List<string> Of(string path) => [.. CommandsOf(path).Select(c => c.Sql)];

    public List<Command> CommandsOf(string path) => [.. _commands.Where(c => c.Path == path).Select(c => c.Command)];

    private void Record(DbCommand command)
    {
        if (http.HttpContext is { } context)
            _commands.Enqueue((context.Request.Path.Value ?? "",
                new Command(command.CommandText, [.. command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, (object?)p.Value))])));
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<DbDataReader> result, CancellationToken ct = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<object> result, CancellationToken ct = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData,
        InterceptionResult<int> result, CancellationToken ct = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Record(command);
        return result;
    }
}
