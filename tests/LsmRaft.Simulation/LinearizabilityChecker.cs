namespace LsmRaft.Simulation;

/// <summary>
/// Checks a key-value history for linearizability (Wing &amp; Gong's search with Lowe's memoization, as in
/// Porcupine). Operations touch one key each, and linearizability is compositional (Herlihy &amp; Wing), so each
/// key's sub-history is checked alone against a single-register model whose state is the current value id.
/// </summary>
/// <remarks>
/// The search walks a doubly linked list of call and return events in time order. Linearizing an operation
/// removes its call and return from the list; meeting a return whose call is still in the list means the
/// current prefix cannot be extended, so it backtracks. States already explored — the set of linearized
/// operations together with the model state — are cached and never explored twice.
/// Unknown-outcome operations return at infinity and accept either outcome, so the search may place them
/// anywhere after their call; the history is linearizable once every known operation is placed (the unknown
/// rest can go at the end, or never happen).
/// </remarks>
internal static class LinearizabilityChecker
{
    /// <summary>The first key whose sub-history is not linearizable, with its operations; null if all are.</summary>
    public static (int Key, IReadOnlyList<KvOp> Ops)? FindViolation(IReadOnlyList<KvOp> history)
    {
        var byKey = new SortedDictionary<int, List<KvOp>>();
        foreach (var op in history)
        {
            if (op.Kind == KvOpKind.Read && !op.Known)
            {
                // A read that never returned tells nothing and changes nothing.
                continue;
            }

            if (!byKey.TryGetValue(op.Key, out var list))
            {
                byKey[op.Key] = list = [];
            }

            list.Add(op);
        }

        foreach (var (key, ops) in byKey)
        {
            if (!IsLinearizable(ops))
            {
                return (key, ops);
            }
        }

        return null;
    }

    /// <summary>True when the operations (all on one key) have a linearization from the empty register.</summary>
    public static bool IsLinearizable(IReadOnlyList<KvOp> ops)
    {
        var n = ops.Count;
        if (n == 0)
        {
            return true;
        }

        var events = new (long Time, int Order, int Op)[2 * n];
        for (var i = 0; i < n; i++)
        {
            if (ops[i].Known && ops[i].Return <= ops[i].Call)
            {
                throw new ArgumentException($"Operation {ops[i]} returns before it is called.");
            }

            events[2 * i] = (ops[i].Call, 0, i);
            events[(2 * i) + 1] = (ops[i].Return, 1, i);
        }

        Array.Sort(events);
        var head = new Node(-1, isCall: false);
        var calls = new Node[n];
        var tail = head;
        foreach (var (_, order, op) in events)
        {
            var node = new Node(op, isCall: order == 0);
            if (node.IsCall)
            {
                calls[op] = node;
            }
            else
            {
                calls[op].Match = node;
            }

            tail.Next = node;
            node.Prev = tail;
            tail = node;
        }

        var knownLeft = 0;
        var zobrist = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            knownLeft += ops[i].Known ? 1 : 0;
            zobrist[i] = Mix((ulong)i + 1);
        }

        var linearized = new ulong[(n + 63) / 64];
        ulong hash = 0;
        long state = 0;
        var cache = new HashSet<CacheKey>();
        var stack = new Stack<(Node Call, long State)>();
        var entry = head.Next;
        while (knownLeft > 0)
        {
            if (entry is null)
            {
                // Only unknown operations' returns can be past the end; unreachable while known ones remain.
                return false;
            }

            if (entry.IsCall)
            {
                var op = ops[entry.Op];
                if (Step(state, op, out var next))
                {
                    linearized[entry.Op >> 6] |= 1UL << (entry.Op & 63);
                    var key = new CacheKey(linearized, hash ^ zobrist[entry.Op], next);
                    if (!cache.Contains(key))
                    {
                        cache.Add(key.Copy());
                        stack.Push((entry, state));
                        state = next;
                        hash ^= zobrist[entry.Op];
                        knownLeft -= op.Known ? 1 : 0;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }

                    linearized[entry.Op >> 6] &= ~(1UL << (entry.Op & 63));
                }

                entry = entry.Next;
                continue;
            }

            if (stack.Count == 0)
            {
                return false;
            }

            var (call, previous) = stack.Pop();
            state = previous;
            hash ^= zobrist[call.Op];
            knownLeft += ops[call.Op].Known ? 1 : 0;
            linearized[call.Op >> 6] &= ~(1UL << (call.Op & 63));
            Unlift(call);
            entry = call.Next;
        }

        return true;
    }

    /// <summary>The register model: may <paramref name="op"/> happen in <paramref name="state"/>, and what follows.</summary>
    private static bool Step(long state, KvOp op, out long next)
    {
        next = state;
        switch (op.Kind)
        {
            case KvOpKind.Read:
                return state == op.ReadValue;
            case KvOpKind.Put:
                next = op.Value;
                return !op.Known || op.Flag == (state != 0);
            case KvOpKind.Delete:
                next = 0;
                return !op.Known || op.Flag == (state != 0);
            default:
                var matches = state == op.Expected;
                if (matches)
                {
                    next = op.Value;
                }

                return !op.Known || op.Flag == matches;
        }
    }

    private static void Lift(Node call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret.Prev;
        }
    }

    private static void Unlift(Node call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null)
        {
            ret.Next.Prev = ret;
        }

        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    private sealed class Node(int op, bool isCall)
    {
        public int Op { get; } = op;

        public bool IsCall { get; } = isCall;

        /// <summary>For a call: its return event.</summary>
        public Node? Match { get; set; }

        public Node? Prev { get; set; }

        public Node? Next { get; set; }
    }

    /// <summary>An explored search state: the linearized set (with its Zobrist hash) and the model state.</summary>
    private readonly struct CacheKey(ulong[] bits, ulong hash, long state) : IEquatable<CacheKey>
    {
        private readonly ulong[] bits = bits;
        private readonly ulong hash = hash;
        private readonly long state = state;

        public CacheKey Copy() => new((ulong[])bits.Clone(), hash, state);

        public bool Equals(CacheKey other) =>
            hash == other.hash && state == other.state && bits.AsSpan().SequenceEqual(other.bits);

        public override bool Equals(object? obj) => obj is CacheKey other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(hash, state);
    }
}
