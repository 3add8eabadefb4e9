namespace EdgeRuntime.Messaging.Tests.Support;

/// <summary>What "every result arrived" means, for the tests that cut, restart or partition the connection.</summary>
public static class Delivery
{
    /// <summary>The <c>seq</c> of every message on <paramref name="topic"/>, in arrival order.</summary>
    public static long[] ResultSeqs(TestSubscriber subscriber, string topic) =>
        subscriber.On(topic).Select(m => TestSubscriber.Json(m).GetProperty("seq").GetInt64()).ToArray();

    /// <summary>In order, none missing; a record sent twice around a reconnect (at-least-once) is allowed and de-duplicated by seq.</summary>
    public static void AssertCompleteInOrder(long[] received, long from, long to)
    {
        long[] distinct = received.Distinct().ToArray();
        Assert.Equal(Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => (long)i), distinct);
        for (int i = 1; i < received.Length; i++)
        {
            // A duplicate can only repeat a recent one, never go back past a newer record that was acknowledged.
            Assert.True(received[i] > received[i - 1] || received.Take(i).Contains(received[i]), $"seq {received[i]} after {received[i - 1]}");
        }
    }
}
