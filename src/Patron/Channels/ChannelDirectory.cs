using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Channels;

/// <summary>
/// Every partner request starts by finding its channel, and channels change a few times a year: so
/// the channels are read from a snapshot of the table, taken again once it is older than
/// <c>--Channels:CacheMilliseconds</c> (1 s by default) and at once when this instance changes a
/// channel. Another instance sees a change, a rotated key included, within that second.
/// </summary>
public sealed class ChannelDirectory(IServiceScopeFactory scopes, IConfiguration configuration)
{
    private sealed record Snapshot(Dictionary<string, Channel> ByName, Dictionary<string, Channel> ByApiKeyHash, Dictionary<int, string> NameById,
        long TakenAt);

    private readonly long _maxAge = configuration.GetValue("Channels:CacheMilliseconds", 1_000L);
    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile Snapshot? _snapshot;
    private int _generation;

    public async ValueTask<Channel?> ByNameAsync(string name, CancellationToken ct) =>
        (await CurrentAsync(ct)).ByName.GetValueOrDefault(name);

    public async ValueTask<Channel?> ByApiKeyHashAsync(string hash, CancellationToken ct) =>
        (await CurrentAsync(ct)).ByApiKeyHash.GetValueOrDefault(hash);

    /// <summary>
    /// Every channel's name by its id, for views that list what channels did. A channel's name never
    /// changes, so the snapshot's answer is the table's, but a channel made since it was taken (by
    /// another instance) is missing: <see cref="Invalidate"/> and ask again. Never call it while
    /// holding a connection: a reload takes one from the same pool.
    /// </summary>
    public async ValueTask<IReadOnlyDictionary<int, string>> NamesAsync(CancellationToken ct) => (await CurrentAsync(ct)).NameById;

    /// <summary>Forgets the snapshot: the next request reads the table again.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _snapshot = null;
    }

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && Environment.TickCount64 - snapshot.TakenAt < _maxAge)
            return snapshot;

        await _reload.WaitAsync(ct);
        try
        {
            snapshot = _snapshot;
            if (snapshot is not null && Environment.TickCount64 - snapshot.TakenAt < _maxAge)
                return snapshot; // another request reloaded it while this one waited
            var takenAt = Environment.TickCount64;
            var generation = Volatile.Read(ref _generation);
            await using var scope = scopes.CreateAsyncScope();
            var channels = await scope.ServiceProvider.GetRequiredService<PatronDb>().Channels.AsNoTracking().ToListAsync(ct);
            snapshot = new Snapshot(channels.ToDictionary(c => c.Name, StringComparer.Ordinal),
                channels.Where(c => c.ApiKeyHash.Length > 0).ToDictionary(c => c.ApiKeyHash, StringComparer.Ordinal),
                channels.ToDictionary(c => c.Id, c => c.Name), takenAt);
            // A change committed while the table was being read may be missing: use it, but do not keep it.
            if (generation == Volatile.Read(ref _generation))
                _snapshot = snapshot;
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }
}
