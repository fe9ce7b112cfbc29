using System.Collections.Concurrent;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Patron.Data;

namespace Patron.Channels;

/// <summary>
/// A channel's open-API key is needed in clear to decrypt <c>param</c>, so it cannot be hashed
/// like the API key: it is stored encrypted with ASP.NET Core Data Protection, whose key ring
/// lives in the database (table data_protection_keys), so that every instance and every restart
/// reads it. A stored value is <c>dp1:</c> + the protected payload; a value without the prefix is
/// a clear key from an older database, encrypted at start-up.
/// </summary>
public sealed class ChannelSecrets(IDataProtectionProvider provider)
{
    private const string Prefix = "dp1:";
    private const int PostgresStartupLock = 726101;

    private readonly IDataProtector _protector = provider.CreateProtector("Patron.Channels.DesKey");

    // Unprotecting costs a key-ring lookup and an HMAC; the open API would pay it on every call.
    // Keyed by channel id and checked against the stored value, so a rotation, by this instance or
    // another, misses the cache on its next call.
    private readonly ConcurrentDictionary<int, (string Stored, string Key)> _clear = new();

    public string Protect(string key) => Prefix + _protector.Protect(key);

    public static bool IsProtected(string stored) => stored.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The clear key of a stored value, protected or (from an older database) not.</summary>
    public string Reveal(string stored) => IsProtected(stored) ? _protector.Unprotect(stored[Prefix.Length..]) : stored;

    /// <summary>The channel's clear open-API key, unprotected once per stored value.</summary>
    public string DesKey(Channel channel)
    {
        if (_clear.TryGetValue(channel.Id, out var known) && string.Equals(known.Stored, channel.DesKey, StringComparison.Ordinal))
            return known.Key;
        var key = Reveal(channel.DesKey);
        _clear[channel.Id] = (channel.DesKey, key);
        return key;
    }

    /// <summary>
    /// At start-up: makes sure the key ring has a key (instances starting together on PostgreSQL
    /// take turns, so they share one key instead of each making its own) and encrypts clear keys
    /// left by an older version.
    /// </summary>
    public async Task PrepareAsync(PatronDb db, CancellationToken ct)
    {
        // Not on SQLite: its transactions hold the write lock, which the key ring's own writer would then wait for.
        await using var tx = db is PostgresPatronDb ? await db.Database.BeginTransactionAsync(ct) : null;
        if (tx is not null)
            await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({PostgresStartupLock})", ct);
        _ = _protector.Protect("key ring check"); // creates and stores the first key if there is none
        var clear = await db.Channels.Where(c => !c.DesKey.StartsWith(Prefix)).ToListAsync(ct);
        foreach (var channel in clear)
            channel.DesKey = Protect(channel.DesKey);
        await db.SaveChangesAsync(ct);
        if (tx is not null)
            await tx.CommitAsync(ct);
    }
}
