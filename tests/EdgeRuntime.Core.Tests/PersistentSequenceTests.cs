using EdgeRuntime.Core.Pipeline;

namespace EdgeRuntime.Core.Tests;

public sealed class PersistentSequenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("edge-seq-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void SequenceStartsAtOneAndIncreases()
    {
        var sequence = new PersistentSequence(_directory, reserveBlock: 4);
        Assert.Equal([1L, 2, 3, 4, 5, 6], Enumerable.Range(0, 6).Select(_ => sequence.Next()));
    }

    [Fact]
    public void SequenceNeverRepeatsAfterARestartEvenWithoutCleanShutdown()
    {
        var first = new PersistentSequence(_directory, reserveBlock: 10);
        long last = 0;
        for (int i = 0; i < 13; i++)
        {
            last = first.Next();
        }

        // No shutdown hook ran: the next process must still continue above every number handed out.
        var second = new PersistentSequence(_directory, reserveBlock: 10);
        long next = second.Next();
        Assert.True(next > last, $"{next} after {last}");
        Assert.True(next - last <= 10, $"gap of {next - last} exceeds one reservation block");
    }

    [Fact]
    public void CorruptSequenceFileIsReportedWithItsPathAndContent()
    {
        File.WriteAllText(Path.Combine(_directory, "sequence"), "twelve");
        var error = Assert.Throws<InvalidDataException>(() => new PersistentSequence(_directory, 10));
        Assert.Contains("twelve", error.Message, StringComparison.Ordinal);
        Assert.Contains(_directory, error.Message, StringComparison.Ordinal);
    }
}
