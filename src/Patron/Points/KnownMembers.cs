namespace Patron.Points;

/// <summary>
/// The points state of members as this process last saw it committed, so that a batch whose members
/// are all known can be decided without its read round trip. Never trusted: that batch's update
/// checks each member's row still holds the state it was decided on, and the batch fails whole, to
/// be decided again from a fresh read, when one does not (another instance or an operator wrote).
/// </summary>
/// <remarks>
/// A batch claims its members before it decides and releases them when it ends. Only a member that
/// no other batch of this process holds is offered: while one batch holds a member, the next one
/// reads it under lock, which waits for the first to commit. On release a state is kept only by the
/// member's last claimant with no other batch still holding it, so a batch that commits late cannot
/// leave an older state behind a newer one.
/// </remarks>
public sealed class KnownMembers(int capacity = KnownMembers.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private sealed class Slot
    {
        public PointsState? State;
        public long Claims;
        public int Holders;
    }

    private readonly Dictionary<long, Slot> _slots = [];
    private readonly Lock _gate = new();

    /// <summary>A batch's hold on its members: which claim of each it was, and their states if all were known and free.</summary>
    public sealed class Claim
    {
        internal Claim(long[] ids, long[] numbers, Dictionary<long, PointsState>? known) => (Ids, Numbers, Known) = (ids, numbers, known);

        public long[] Ids { get; }
        internal long[] Numbers { get; }

        /// <summary>Every member's last seen state, or null when one is unknown or held by another batch.</summary>
        public Dictionary<long, PointsState>? Known { get; }
    }

    /// <summary>Holds <paramref name="ids"/> (distinct) for a batch.</summary>
    public Claim Take(long[] ids)
    {
        var numbers = new long[ids.Length];
        var known = new Dictionary<long, PointsState>(ids.Length);
        lock (_gate)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if (!_slots.TryGetValue(ids[i], out var slot))
                    _slots[ids[i]] = slot = new Slot();
                if (known is not null && slot is { State: { } state, Holders: 0 })
                    known[ids[i]] = state;
                else
                    known = null;
                numbers[i] = ++slot.Claims;
                slot.Holders++;
            }
        }
        return new Claim(ids, numbers, known);
    }

    /// <summary>
    /// Lets the batch's members go. <paramref name="committed"/> holds their states as the batch
    /// committed them, null when it did not commit. A member's state is kept only from its last
    /// claimant, once no batch holds it; otherwise it is forgotten, as it may have moved.
    /// </summary>
    public void Release(Claim claim, IReadOnlyDictionary<long, PointsState>? committed)
    {
        lock (_gate)
        {
            for (var i = 0; i < claim.Ids.Length; i++)
            {
                var slot = _slots[claim.Ids[i]];
                slot.Holders--;
                // Anything else leaves the member unknown: what was known before this batch may be stale now.
                slot.State = committed is not null && slot.Claims == claim.Numbers[i] && slot.Holders == 0
                    && committed.TryGetValue(claim.Ids[i], out var state) ? state : null;
            }
            if (_slots.Count > capacity)
                foreach (var (id, slot) in _slots)
                    if (slot.Holders == 0)
                        _slots.Remove(id);
        }
    }

    /// <summary>How many members' states are known.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _slots.Count(s => s.Value.State is not null);
        }
    }
}
