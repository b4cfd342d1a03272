namespace GenRec.Data;

/// <summary>Finds where a file stops being UTF-8, for error messages that name the line.</summary>
public static class Utf8Lines
{
    /// <summary>The 1-based line holding the first byte sequence that is not UTF-8, or 0 when the whole file is UTF-8.</summary>
    public static long FirstInvalidLine(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var buffer = new byte[1 << 16];
        var carry = new List<byte>();
        long line = 1;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0;
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] != (byte)'\n') continue;
                if (!Valid(carry, buffer.AsSpan(start, i - start))) return line;
                carry.Clear();
                start = i + 1;
                line++;
            }
            carry.AddRange(buffer.AsSpan(start, read - start));
        }
        return Valid(carry, []) ? 0 : line;
    }

    private static bool Valid(List<byte> carry, ReadOnlySpan<byte> rest)
    {
        if (carry.Count == 0) return System.Text.Unicode.Utf8.IsValid(rest);
        var all = new byte[carry.Count + rest.Length];
        carry.CopyTo(all);
        rest.CopyTo(all.AsSpan(carry.Count));
        return System.Text.Unicode.Utf8.IsValid(all);
    }
}
