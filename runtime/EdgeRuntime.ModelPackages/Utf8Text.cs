using System.Buffers;
using System.Text;

namespace EdgeRuntime.ModelPackages;

/// <summary>
/// UTF-8 validation for the package's JSON files: the JSON reader accepts invalid sequences inside strings and only
/// fails when a string is read, which would surface as an exception instead of a problem with a position.
/// </summary>
internal static class Utf8Text
{
    /// <summary>The offset of the first byte that is not valid UTF-8, or -1 when the text is valid.</summary>
    public static int IndexOfInvalid(ReadOnlySpan<byte> utf8)
    {
        int offset = 0;
        while (offset < utf8.Length)
        {
            if (Rune.DecodeFromUtf8(utf8[offset..], out _, out int consumed) != OperationStatus.Done)
            {
                return offset;
            }

            offset += consumed;
        }

        return -1;
    }
}
