using System.Collections.Concurrent;
using LsmRaft.Storage.Cache;
using LsmRaft.Storage.Format;
using LsmRaft.Storage.IO;
using LsmRaft.Storage.Versions;

namespace LsmRaft.Storage.Table;

/// <summary>
/// Open <see cref="TableReader"/>s by file number, opened on first use. A reader is closed only
/// when its file is deleted, which happens only once no referenced version lists it, so no
/// lookup or iterator can still be using it.
/// </summary>
internal sealed class TableCache : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _directory;
    private readonly BlockCache _blockCache;
    private readonly EngineCounters _counters;
    private readonly ConcurrentDictionary<ulong, Lazy<TableReader>> _readers = new();

    public TableCache(IFileSystem fs, string directory, BlockCache blockCache, EngineCounters counters)
    {
        _fs = fs;
        _directory = directory;
        _blockCache = blockCache;
        _counters = counters;
    }

    public TableReader Get(FileMetadata file)
    {
        var lazy = _readers.GetOrAdd(file.Number, number => new Lazy<TableReader>(() => Open(number)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // Do not cache a failure: the next call reports it again instead of a stale exception.
            _readers.TryRemove(new KeyValuePair<ulong, Lazy<TableReader>>(file.Number, lazy));
            throw;
        }
    }

    public IInternalIterator NewIterator(FileMetadata file) => Get(file).NewIterator();

    /// <summary>Closes the reader of a deleted table and drops its cached blocks.</summary>
    public void Evict(ulong number)
    {
        if (_readers.TryRemove(number, out var lazy) && lazy.IsValueCreated)
            lazy.Value.Dispose();
    }

    public void Dispose()
    {
        foreach (var number in _readers.Keys.ToArray())
            Evict(number);
    }

    private TableReader Open(ulong number)
    {
        string name = FileMetadata.TableFileName(number);
        IRandomAccessFile file;
        try
        {
            file = _fs.OpenRead(Path.Combine(_directory, name));
        }
        catch (FileNotFoundException)
        {
            throw new CorruptionException(name, 0, "the table is listed in the manifest but the file is missing (deleted or lost); restore it or the whole database from a backup");
        }
        try
        {
            return TableReader.Open(file, name, _blockCache, _counters);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
