namespace GenRec.Native;

/// <summary>
/// SplitMix64's finaliser: a fast, well-mixed 64-bit hash. Example-seeded draws (negatives, dropout masks) hash the
/// place of a value in the epoch with it instead of drawing from a generator whose state depends on the process.
/// </summary>
internal static class SplitMix64
{
    /// <summary>The hash of <paramref name="x"/>.</summary>
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}
