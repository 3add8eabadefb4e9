using System.Text;

namespace EdgeRuntime.Messaging.Outbox;

/// <summary>The few distinct topics an outbox holds (result, event), each decoded once.</summary>
internal sealed class TopicCache
{
    private const int Capacity = 16;
    private readonly byte[][] _utf8 = new byte[Capacity][];
    private readonly string[] _text = new string[Capacity];
    private int _count;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        for (int i = 0; i < _count; i++)
        {
            if (utf8.SequenceEqual(_utf8[i]))
            {
                return _text[i];
            }
        }

        string text = Encoding.UTF8.GetString(utf8);
        if (_count < Capacity)
        {
            _utf8[_count] = utf8.ToArray();
            _text[_count] = text;
            _count++;
        }

        return text;
    }
}
