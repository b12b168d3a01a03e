namespace LsmRaft.Actors.Replica;

/// <summary>
/// The proposals a leader replica accepted and not yet handed to its storage actor, in index order.
/// Proposals almost always arrive in increasing index order, so this is a list with a moving head: O(1)
/// to add at the end and to take from the front, without the per-call allocations of a sorted dictionary.
/// Invariant: entries [head, Count) are sorted by <see cref="ProposalWaiter.Index"/> with no index twice.
/// </summary>
internal sealed class ProposalWaiters
{
    private readonly List<ProposalWaiter> _items = [];
    private int _head;

    public int Count => _items.Count - _head;

    /// <summary>
    /// Adds a waiter. A waiter already at the same index waits for an entry that a newer leader's log replaced
    /// (this replica proposed at that index again), so it is answered <see cref="ProposeOutcome.NotLeader"/> now.
    /// </summary>
    public void Add(ProposalWaiter waiter)
    {
        if (Count == 0 || _items[^1].Index < waiter.Index)
        {
            _items.Add(waiter);
            return;
        }

        int lo = _head, hi = _items.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_items[mid].Index < waiter.Index)
                lo = mid + 1;
            else
                hi = mid;
        }

        if (lo < _items.Count && _items[lo].Index == waiter.Index)
        {
            _items[lo].Reply.Reply(new ProposeOutcome.NotLeader(0));
            _items[lo] = waiter;
        }
        else
        {
            _items.Insert(lo, waiter);
        }
    }

    /// <summary>Removes and returns the waiters at indexes up to <paramref name="lastIndex"/>, in index order.</summary>
    public List<ProposalWaiter> TakeThrough(ulong lastIndex)
    {
        int end = _head;
        while (end < _items.Count && _items[end].Index <= lastIndex)
            end++;
        var taken = _items.GetRange(_head, end - _head);
        _head = end;
        if (_head == _items.Count)
        {
            _items.Clear();
            _head = 0;
        }
        else if (_head >= 1024 && _head * 2 >= _items.Count)
        {
            _items.RemoveRange(0, _head);
            _head = 0;
        }

        return taken;
    }

    /// <summary>Removes and returns every waiter.</summary>
    public List<ProposalWaiter> TakeAll() => TakeThrough(ulong.MaxValue);
}
