namespace Patron.Data;

/// <summary>
/// What this process last saw committed for the rows a group-commit writer decides on (a member's
/// points, a card's usage entry), so that a batch whose rows are all known can be decided without its
/// read round trip. Never trusted: that batch's update checks each row still holds the state it was
/// decided on, and the batch fails whole, to be decided again from a read under lock, when one does
/// not (another instance, an operator, a refund wrote).
/// </summary>
/// <remarks>
/// A batch claims its keys before it decides and releases them when it ends. Only a key that no
/// other batch of this process holds is offered, so a state handed out is the batch's alone until it
/// lets go: while one batch holds a key, the next waits its turn (<see cref="TakeAsync"/>), or,
/// should another of its keys be held by then, reads them under lock. On release a state is kept
/// only from the key's last claimant, once no batch holds it; otherwise it is forgotten, so a batch
/// that commits late cannot leave an older state behind a newer. Past its capacity it forgets every
/// key no batch holds or waits for.
/// </remarks>
public sealed class KnownStates<TKey, TState>(int capacity = KnownStates<TKey, TState>.DefaultCapacity)
    where TKey : notnull
    where TState : notnull
{
    public const int DefaultCapacity = 100_000;

    private sealed class Slot
    {
        public TState? State;
        public bool Known;
        public long Claims;
        public int Holders;
        public Queue<TaskCompletionSource>? Waiting;
        public int Woken;

        /// <summary>Held, or promised to a batch that waited for it: a newcomer queues behind.</summary>
        public bool Busy => Holders > 0 || Woken > 0 || Waiting is { Count: > 0 };
    }

    private readonly Dictionary<TKey, Slot> _slots = [];
    private readonly Lock _gate = new();
    private readonly BatchPaths _paths = new();

    /// <summary>Batches settled from a read under lock, and batches settled on known states.</summary>
    public (long Read, long Known) Paths => _paths.Counts;

    /// <summary>A batch's hold on its keys: which claim of each it was, and their states if all were known and free.</summary>
    public sealed class Claim
    {
        internal Claim(TKey[] keys, long[] numbers, Dictionary<TKey, TState>? known) => (Keys, Numbers, Known) = (keys, numbers, known);

        public TKey[] Keys { get; }
        internal long[] Numbers { get; }

        /// <summary>Every key's last seen state, or null when one is unknown or held by another batch.</summary>
        public Dictionary<TKey, TState>? Known { get; }
    }

    /// <summary>
    /// Holds <paramref name="keys"/> (distinct) for a batch. When another batch of this process holds
    /// one of them, or waits for it, first waits its turn, in order of arrival: the commit ahead is
    /// what this batch would wait for in the database anyway, and the state it leaves is then known,
    /// which spares this batch its read. So batches on one hot member take turns, each in one round
    /// trip. A batch waits holding nothing, so no two can wait for each other, and once woken it
    /// takes its keys whoever holds them.
    /// </summary>
    public async Task<Claim> TakeAsync(TKey[] keys)
    {
        Slot? busy = null;
        TaskCompletionSource turn;
        lock (_gate)
        {
            foreach (var key in keys)
                if (_slots.TryGetValue(key, out var slot) && slot.Busy)
                {
                    busy = slot;
                    break;
                }
            if (busy is null)
                return TakeLocked(keys);
            turn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            (busy.Waiting ??= new()).Enqueue(turn);
        }
        await turn.Task;
        lock (_gate)
        {
            busy.Woken--;
            return TakeLocked(keys); // held by then (another key of the batch), it is read under lock
        }
    }

    /// <summary>Holds <paramref name="keys"/> (distinct) for a batch at once, whoever else holds them.</summary>
    internal Claim Take(TKey[] keys)
    {
        lock (_gate)
            return TakeLocked(keys);
    }

    private Claim TakeLocked(TKey[] keys)
    {
        var numbers = new long[keys.Length];
        var known = new Dictionary<TKey, TState>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            if (!_slots.TryGetValue(keys[i], out var slot))
                _slots[keys[i]] = slot = new Slot();
            if (known is not null && slot is { Known: true, Holders: 0 })
                known[keys[i]] = slot.State!;
            else
                known = null;
            numbers[i] = ++slot.Claims;
            slot.Holders++;
        }
        return new Claim(keys, numbers, known);
    }

    /// <summary>
    /// Lets the batch's keys go. <paramref name="committed"/> holds their states as the batch
    /// committed them, null when it did not commit. A key's state is kept only from its last
    /// claimant, once no batch holds it; otherwise it is forgotten, as it may have moved.
    /// </summary>
    public void Release(Claim claim, IReadOnlyDictionary<TKey, TState>? committed)
    {
        lock (_gate)
        {
            for (var i = 0; i < claim.Keys.Length; i++)
            {
                var slot = _slots[claim.Keys[i]];
                slot.Holders--;
                slot.Known = committed is not null && slot.Claims == claim.Numbers[i] && slot.Holders == 0
                    && committed.TryGetValue(claim.Keys[i], out slot.State);
                if (!slot.Known)
                    slot.State = default;
                if (slot is { Holders: 0, Waiting: { Count: > 0 } waiting })
                {
                    slot.Woken++; // one at a time: the next waits for this one's turn to end
                    waiting.Dequeue().SetResult();
                }
            }
            if (_slots.Count > capacity)
                foreach (var (key, slot) in _slots)
                    if (!slot.Busy)
                        _slots.Remove(key);
        }
    }

    /// <summary>
    /// Settles a batch on <paramref name="keys"/>, then keeps what it committed. When every key is
    /// known and free, <paramref name="onKnown"/> may settle the batch on those states (it answers
    /// null when it cannot). If it cannot, or the database finds one of them stale,
    /// <paramref name="onRead"/> settles it from a read under lock (<see cref="BatchPaths"/>). Each
    /// gives the batch's result and the keys' states as committed.
    /// </summary>
    public async Task<TResult> SettleAsync<TResult>(TKey[] keys,
        Func<Dictionary<TKey, TState>, Task<(TResult Result, IReadOnlyDictionary<TKey, TState> Committed)>?> onKnown,
        Func<Task<(TResult Result, IReadOnlyDictionary<TKey, TState> Committed)>> onRead)
    {
        var claim = await TakeAsync(keys);
        IReadOnlyDictionary<TKey, TState>? committed = null;
        try
        {
            (var result, committed) = await _paths.SettleAsync(claim.Known is { } known ? onKnown(known) : null, onRead);
            return result;
        }
        finally
        {
            Release(claim, committed);
        }
    }

    /// <summary>How many keys' states are known.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _slots.Count(s => s.Value.Known);
        }
    }
}
