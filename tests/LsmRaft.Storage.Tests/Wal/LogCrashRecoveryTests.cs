using LsmRaft.Storage.Wal;
using Xunit.Abstractions;
using static LsmRaft.Storage.Tests.Wal.LogTestFiles;

namespace LsmRaft.Storage.Tests.Wal;

public sealed class LogCrashRecoveryTests
{
    private readonly ITestOutputHelper _output;

    public LogCrashRecoveryTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Recovery_after_a_crash_returns_every_synced_record_and_never_garbage()
    {
        const int Seeds = 400;
        int tornRuns = 0;
        for (int seed = 0; seed < Seeds; seed++)
        {
            var random = new Random(seed);
            var fs = NewFileSystem();
            var written = new List<byte[]>();
            int synced = 0;
            var writer = new LogWriter(fs.Create(LogPath));
            int count = random.Next(1, 40);
            for (int i = 0; i < count; i++)
            {
                int size = random.Next(8) switch
                {
                    0 => 0,
                    < 6 => random.Next(1, 300),
                    6 => random.Next(300, 8000),
                    _ => random.Next(8000, 2 * LogFormat.BlockSize),
                };
                var record = Payload(size, random.Next());
                writer.AddRecord(record);
                written.Add(record);
                int action = random.Next(10);
                if (action < 3)
                {
                    writer.Sync();
                    synced = written.Count;
                }
                else if (action == 3)
                {
                    writer.Flush();
                }
            }

            fs.Crash(new Random(seed));
            writer.Dispose();

            string because = $"seed {seed}: {written.Count} records written, {synced} synced";
            LogTestFiles.ReadResult result;
            try
            {
                result = ReadLog(fs, LogPath);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{because}: recovery threw {e}");
            }
            result.Records.Count.Should().BeGreaterThanOrEqualTo(synced, because);
            result.Records.Count.Should().BeLessThanOrEqualTo(written.Count, because);
            for (int i = 0; i < result.Records.Count; i++)
                result.Records[i].Should().Equal(written[i], $"{because}: record {i} must be exactly what was written");
            result.ValidLength.Should().BeLessThanOrEqualTo(fs.GetLength(LogPath), because);
            if (result.TornTail)
                tornRuns++;
        }
        _output.WriteLine($"{Seeds} seeds, {tornRuns} ended in a torn tail");
        tornRuns.Should().BeGreaterThan(Seeds / 10, "the crash model must actually tear writes for this test to mean something");
    }
}
