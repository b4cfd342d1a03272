namespace GenRec.Data;

/// <summary>"Did you mean": the closest of a set of known names to a mistyped one.</summary>
public static class Spelling
{
    /// <summary>
    /// The known name closest to <paramref name="typed"/> (case-insensitive edit distance), if it is close enough to
    /// be a typo (at most a third of its letters, and at least one, differ); otherwise null.
    /// </summary>
    public static string? Closest(string typed, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var k in known)
        {
            int d = Distance(typed.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance) (best, bestDistance) = (k, d);
        }
        return best is not null && bestDistance <= Math.Max(1, (typed.Length + 1) / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
