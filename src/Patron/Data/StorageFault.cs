using Microsoft.Data.Sqlite;
using Npgsql;

namespace Patron.Data;

/// <summary>
/// Tells a database that is down, restarting or overloaded from a bug. While it is down every
/// request fails the same way: the caller gets HTTP 503 with Retry-After in its API's envelope
/// (code 5000, as SPEC §7 has no other), and the log gets one line every ten seconds rather than
/// a stack trace per request.
/// </summary>
public static class StorageFault
{
    private const long LogEveryMilliseconds = 10_000;
    private static long _lastLogged;
    private static long _unreported;

    /// <summary>
    /// True for failures a retry can cure: no connection (refused, cut, pool exhausted), the server
    /// shutting down or starting up, lack of resources; SQLite busy, locked, out of disk or unable
    /// to open the file. Wrappers (EF's DbUpdateException and the like) are looked through.
    /// </summary>
    public static bool IsUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case NpgsqlException npgsql when npgsql.IsTransient:
                    return true;
                case SqliteException { SqliteErrorCode: 5 or 6 or 10 or 13 or 14 }: // BUSY, LOCKED, IOERR, FULL, CANTOPEN
                    return true;
            }
        }
        return false;
    }

    /// <summary>Logs the outage at most once every ten seconds per process, with how many failures it stands for.</summary>
    public static void Report(ILogger log, Exception exception)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastLogged);
        if (now - last < LogEveryMilliseconds || Interlocked.CompareExchange(ref _lastLogged, now, last) != last)
        {
            Interlocked.Increment(ref _unreported);
            return;
        }
        var since = Interlocked.Exchange(ref _unreported, 0);
        log.LogWarning("The database is unavailable; requests get 503 until it is back. {Error} ({Count} more failures since the last report)",
            exception.GetBaseException().Message, since);
    }
}
