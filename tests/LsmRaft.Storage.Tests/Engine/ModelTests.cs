using LsmRaft.Storage.Format;
using Xunit.Abstractions;

namespace LsmRaft.Storage.Tests.Engine;

/// <summary>
/// Randomized differential test: thousands of operations run against the engine and against a sorted map
/// ordered like the engine; every read must agree. Keys come from a small alphabet holding 0x00 and 0xFF,
/// so keys collide, share prefixes and sit on ordering edges; values range from empty to several blocks.
/// Snapshots are checked against the model's copy taken when they were created. Odd seeds use a wide key
/// space and larger values, so live data outgrows L1 and compactions reach deeper levels; even seeds keep
/// the key space small, so most writes overwrite and most tables overlap.
/// </summary>
public sealed class ModelTests : EngineTestBase
{
    private const int Operations = 10_000;
    private const int VerifyEvery = 250;
    private const int MaxLiveSnapshots = 4;

    private static readonly int[] FixedSeeds = { 1, 2, 3, 5, 8, 13, 21, 34 };

    /// <summary>Symbols of every key: both extremes of the unsigned order, a neighbour of each, the signed-order boundary.</summary>
    private static readonly byte[] Alphabet = { 0x00, 0x01, 0x41, 0x7F, 0x80, 0xFE, 0xFF };

    private readonly ITestOutputHelper _output;

    public ModelTests(ITestOutputHelper output) => _output = output;

    public static IEnumerable<object[]> Seeds => SeedRows(FixedSeeds);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_operations_agree_with_a_sorted_map_model(int seed) =>
        new Run(seed, SmallOptions(), _output).Execute();

    private sealed class Run
    {
        private readonly int _seed;
        private readonly LsmOptions _options;
        private readonly Random _rng;
        private readonly bool _wide;
        private readonly SortedDictionary<byte[], byte[]> _model = NewModel();
        private readonly List<(Snapshot Snapshot, SortedDictionary<byte[], byte[]> State)> _snapshots = new();
        private readonly Queue<string> _trace = new();
        private readonly ITestOutputHelper _output;
        private int _reopens;
        private long _flushes;
        private long _compactions;
        private LsmEngine _db = null!;
        private int _op;

        public Run(int seed, LsmOptions options, ITestOutputHelper output)
        {
            _seed = seed;
            _output = output;
            _options = options;
            _rng = new Random(seed);
            _wide = (seed & 1) != 0;
        }

        public void Execute()
        {
            _db = LsmEngine.Open(Dir, _options);
            try
            {
                for (_op = 0; _op < Operations; _op++)
                {
                    Step();
                    if (_op % VerifyEvery == VerifyEvery - 1)
                        VerifyEverything("periodic check");
                }
                VerifyEverything("final check");
                var levels = string.Join(" ", _db.GetStats().Levels.Select(l => l.Files));
                Reopen();
                VerifyEverything("final check after reopen");
                // Shows the run reached the code it is meant to test (flushes, compactions, deeper levels).
                _output.WriteLine($"seed {_seed}: {Operations} operations, {_model.Count} live keys, {_reopens} reopens, {_flushes} flushes, {_compactions} compactions, files per level before the last reopen: {levels}");
            }
            catch (Exception e) when (e is not ModelMismatchException)
            {
                throw Fail($"the engine threw {e.GetType().Name}: {e.Message}", e);
            }
            finally
            {
                ReleaseSnapshots();
                _db.Dispose();
            }
        }

        private void Step()
        {
            int r = _rng.Next(100);
            switch (r)
            {
                case < 30: Put(); break;
                case < 40: Delete(); break;
                case < 48: Batch(); break;
                case < 62: Get(); break;
                case < 71: Scan(); break;
                case < 78: Walk(); break;
                case < 81: TakeSnapshot(); break;
                case < 83: ReleaseOneSnapshot(); break;
                case < 87: Note("flush"); _db.Flush(); break;
                case < 89: CompactRange(); break;
                case < 90: Reopen(); break;
                default: Put(); break;
            }
        }

        private void Put()
        {
            var key = RandomKey();
            var value = RandomValue();
            Note($"put {Hex(key)} ({value.Length} bytes)");
            _db.Put(key, value);
            _model[key] = value;
        }

        private void Delete()
        {
            var key = _model.Count > 0 && _rng.Next(10) < 7 ? PickExisting(_model) : RandomKey();
            Note($"delete {Hex(key)}");
            _db.Delete(key);
            _model.Remove(key);
        }

        private void Batch()
        {
            var batch = new WriteBatch();
            var operations = new List<(byte[] Key, byte[]? Value)>();
            int count = _rng.Next(2, 8);
            for (int i = 0; i < count; i++)
            {
                // Reusing a key of this batch checks that the later operation wins.
                var key = operations.Count > 0 && _rng.Next(3) == 0 ? operations[_rng.Next(operations.Count)].Key : RandomKey();
                if (_rng.Next(4) == 0)
                {
                    batch.Delete(key);
                    operations.Add((key, null));
                }
                else
                {
                    var value = RandomValue();
                    batch.Put(key, value);
                    operations.Add((key, value));
                }
            }
            Note("batch " + string.Join(", ", operations.Select(o => o.Value is null ? $"del {Hex(o.Key)}" : $"put {Hex(o.Key)}")));
            _db.Write(batch);
            foreach (var (key, value) in operations)
            {
                if (value is null) _model.Remove(key);
                else _model[key] = value;
            }
        }

        private void Get()
        {
            var (snapshot, state, name) = PickView();
            var key = state.Count > 0 && _rng.Next(10) < 6 ? PickExisting(state) : RandomKey();
            Note($"get {Hex(key)} at {name}");
            var actual = _db.Get(key, snapshot);
            state.TryGetValue(key, out var expected);
            if (expected is null && actual is not null)
                throw Fail($"Get({Hex(key)}) at {name} returned {Hex(actual)}; the model has no such key");
            if (expected is not null && actual is null)
                throw Fail($"Get({Hex(key)}) at {name} returned null; the model has {Hex(expected)}");
            if (expected is not null && !expected.AsSpan().SequenceEqual(actual))
                throw Fail($"Get({Hex(key)}) at {name} returned {Hex(actual)}; the model has {Hex(expected)}");
        }

        private void Scan()
        {
            var (snapshot, state, name) = PickView();
            var start = RandomBound();
            var end = RandomBound();
            int limit = _rng.Next(10) < 3 ? int.MaxValue : _rng.Next(0, 25);
            bool reverse = _rng.Next(2) == 0;
            string call = $"Scan({Bound(start)}, {Bound(end)}, limit {(limit == int.MaxValue ? "none" : limit)}, {(reverse ? "reverse" : "forward")}) at {name}";
            Note(call);
            var actual = _db.Scan(start, end, limit, reverse, snapshot);

            IEnumerable<KeyValuePair<byte[], byte[]>> expected = state.Where(kv =>
                (start is null || ByteKeyComparer.Instance.Compare(kv.Key, start) >= 0) &&
                (end is null || ByteKeyComparer.Instance.Compare(kv.Key, end) < 0));
            if (reverse)
                expected = expected.Reverse();
            var list = expected.Take(limit).ToList();
            if (actual.Count != list.Count)
                throw Fail($"{call} returned {actual.Count} entries; the model has {list.Count}");
            for (int i = 0; i < list.Count; i++)
            {
                if (!actual[i].Key.AsSpan().SequenceEqual(list[i].Key) || !actual[i].Value.AsSpan().SequenceEqual(list[i].Value))
                    throw Fail($"{call} entry {i}: engine {Hex(actual[i].Key)}={Hex(actual[i].Value)}, model {Hex(list[i].Key)}={Hex(list[i].Value)}");
            }
        }

        /// <summary>
        /// Moves an iterator at random and a model cursor alike. Writes and flushes made during a walk of the
        /// latest state must not show up in the iterator, whose view was fixed when it was created.
        /// </summary>
        private void Walk()
        {
            var (snapshot, state, name) = PickView();
            var keys = state.Keys.ToArray();
            var values = state.Values.ToArray();
            Note($"iterator at {name} over {keys.Length} keys");
            using var it = _db.NewIterator(snapshot);
            int position = -1; // index into keys; -1 = not valid
            int steps = _rng.Next(1, 40);
            for (int step = 0; step < steps; step++)
            {
                string move;
                int r = _rng.Next(100);
                if (position >= 0 && r < 35)
                {
                    move = "Next";
                    it.Next();
                    position = position + 1 < keys.Length ? position + 1 : -1;
                }
                else if (position >= 0 && r < 70)
                {
                    move = "Prev";
                    it.Prev();
                    position--;
                }
                else
                {
                    int kind = _rng.Next(5);
                    var target = kind >= 2 ? (keys.Length > 0 && _rng.Next(2) == 0 ? keys[_rng.Next(keys.Length)] : RandomKey()) : null;
                    switch (kind)
                    {
                        case 0:
                            move = "SeekToFirst";
                            it.SeekToFirst();
                            position = keys.Length > 0 ? 0 : -1;
                            break;
                        case 1:
                            move = "SeekToLast";
                            it.SeekToLast();
                            position = keys.Length - 1;
                            break;
                        case 2:
                            move = $"Seek({Hex(target!)})";
                            it.Seek(target);
                            position = LowerBound(keys, target!);
                            if (position == keys.Length) position = -1;
                            break;
                        case 3:
                            move = $"SeekForPrev({Hex(target!)})";
                            it.SeekForPrev(target);
                            position = UpperBound(keys, target!) - 1;
                            break;
                        default:
                            move = $"SeekBefore({Hex(target!)})";
                            it.SeekBefore(target);
                            position = LowerBound(keys, target!) - 1;
                            break;
                    }
                }
                Note($"  {move}");
                if (it.Valid != position >= 0)
                    throw Fail($"iterator at {name}: after {move} Valid is {it.Valid}; the model cursor is {(position >= 0 ? "at " + Hex(keys[position]) : "off the end")}");
                if (position >= 0 && (!it.Key.SequenceEqual(keys[position]) || !it.Value.SequenceEqual(values[position])))
                    throw Fail($"iterator at {name}: after {move} it is at {Hex(it.Key)}={Hex(it.Value)}; the model cursor is at {Hex(keys[position])}={Hex(values[position])}");

                if (snapshot is null && _rng.Next(20) == 0)
                {
                    if (_rng.Next(3) == 0)
                    {
                        Note("  flush during walk");
                        _db.Flush();
                    }
                    else
                    {
                        Put();
                    }
                }
            }
        }

        private void TakeSnapshot()
        {
            if (_snapshots.Count >= MaxLiveSnapshots)
            {
                ReleaseOneSnapshot();
                return;
            }
            Note($"snapshot #{_snapshots.Count} taken");
            _snapshots.Add((_db.GetSnapshot(), CopyModel(_model)));
        }

        private void ReleaseOneSnapshot()
        {
            if (_snapshots.Count == 0)
                return;
            int index = _rng.Next(_snapshots.Count);
            Note($"snapshot #{index} released");
            _snapshots[index].Snapshot.Dispose();
            _snapshots.RemoveAt(index);
        }

        private void CompactRange()
        {
            var start = RandomBound();
            var end = RandomBound();
            if (start is not null && end is not null && ByteKeyComparer.Instance.Compare(start, end) > 0)
                (start, end) = (end, start);
            Note($"CompactRange({Bound(start)}, {Bound(end)})");
            _db.CompactRange(start, end);
        }

        private void Reopen()
        {
            Note("reopen");
            CountBackgroundWork();
            _reopens++;
            ReleaseSnapshots();
            _db.Dispose();
            _db = LsmEngine.Open(Dir, _options);
        }

        private void CountBackgroundWork()
        {
            var stats = _db.GetStats();
            _flushes += stats.Flushes;
            _compactions += stats.Compactions;
        }

        private void ReleaseSnapshots()
        {
            foreach (var (snapshot, _) in _snapshots)
                snapshot.Dispose();
            _snapshots.Clear();
        }

        private void VerifyEverything(string what)
        {
            Note(what);
            if (FirstDifference(_model, _db.Scan(null, null)) is { } difference)
                throw Fail($"{what}: full forward scan differs from the model: {difference}");
            var reversed = _db.Scan(null, null, reverse: true).Reverse().ToList();
            if (FirstDifference(_model, reversed) is { } reverseDifference)
                throw Fail($"{what}: full reverse scan differs from the model: {reverseDifference}");
            for (int i = 0; i < _snapshots.Count; i++)
            {
                if (FirstDifference(_snapshots[i].State, _db.Scan(null, null, snapshot: _snapshots[i].Snapshot)) is { } snapshotDifference)
                    throw Fail($"{what}: full scan at snapshot #{i} differs from the model's copy: {snapshotDifference}");
            }
        }

        private (Snapshot? Snapshot, SortedDictionary<byte[], byte[]> State, string Name) PickView()
        {
            if (_snapshots.Count > 0 && _rng.Next(4) == 0)
            {
                int index = _rng.Next(_snapshots.Count);
                return (_snapshots[index].Snapshot, _snapshots[index].State, $"snapshot #{index}");
            }
            return (null, _model, "latest");
        }

        private byte[] RandomKey()
        {
            int r = _rng.Next(100);
            int shortKeys = _wide ? 50 : 93;
            int length = r < 2 ? 0 : r < shortKeys ? _rng.Next(1, 4) : _rng.Next(4, 24);
            var key = new byte[length];
            for (int i = 0; i < length; i++)
                key[i] = Alphabet[_rng.Next(Alphabet.Length)];
            return key;
        }

        private byte[]? RandomBound() => _rng.Next(5) == 0 ? null : RandomKey();

        /// <summary>Mostly small values, some larger than the 1 KiB block size; each starts with the operation number when it fits.</summary>
        private byte[] RandomValue()
        {
            int r = _rng.Next(100);
            int large = _wide ? 75 : 90;
            int length = r < 5 ? 0 : r < 55 ? _rng.Next(1, 40) : r < large ? _rng.Next(40, 400) : _rng.Next(1000, 4000);
            var value = new byte[length];
            _rng.NextBytes(value);
            if (length >= 4)
                BitConverter.TryWriteBytes(value, _op);
            return value;
        }

        private byte[] PickExisting(SortedDictionary<byte[], byte[]> state) => state.Keys.ElementAt(_rng.Next(state.Count));

        private static int LowerBound(byte[][] keys, byte[] target)
        {
            int lo = 0, hi = keys.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (ByteKeyComparer.Instance.Compare(keys[mid], target) < 0) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        private static int UpperBound(byte[][] keys, byte[] target)
        {
            int lo = 0, hi = keys.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (ByteKeyComparer.Instance.Compare(keys[mid], target) <= 0) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        private static string Bound(byte[]? bound) => bound is null ? "null" : Hex(bound);

        private void Note(string what)
        {
            _trace.Enqueue($"#{_op}: {what}");
            while (_trace.Count > 40)
                _trace.Dequeue();
        }

        private ModelMismatchException Fail(string message, Exception? inner = null) =>
            new($"seed {_seed}, operation #{_op}: {message}\nrecent operations (oldest first):\n  {string.Join("\n  ", _trace)}\n{ReplayHint(_seed, nameof(ModelTests))}", inner);
    }
}
