using static GenRec.Native.SplitMix64;

namespace GenRec.Training;

/// <summary>
/// Negatives drawn from the place of a position in the epoch rather than from the process's random-number
/// generator (<see cref="Model.TrainingConfig.ExampleSeeded"/>): position <c>p</c> of the example at index
/// <c>e</c> of epoch <c>t</c>'s plan gets the same negatives whichever rank trains it and whatever else is in its
/// batch, so N ranks with batches of B / N take the same steps as one with B. A SplitMix64 hash of
/// (seed, epoch, example, position, draw) picks each negative uniformly from the corpus.
/// </summary>
internal static class ExampleNegatives
{
    /// <summary>Row-major [positions × count] item ids: for each (example, position), <paramref name="count"/> draws.
    /// </summary>
    public static long[] Sample(long[] corpus, IReadOnlyList<(long Example, int Position)> positions, int count,
        int seed, int epoch)
    {
        var ids = new long[positions.Count * count];
        ulong n = (ulong)corpus.Length;
        for (int p = 0; p < positions.Count; p++)
        {
            var (example, position) = positions[p];
            // Mixed after the position too: draws key + j of neighbouring positions would otherwise overlap.
            ulong key = Mix(Mix(Mix(Mix((ulong)seed) ^ (ulong)epoch) ^ (ulong)example) ^ (ulong)position);
            for (int j = 0; j < count; j++) ids[p * count + j] = corpus[(int)(Mix(key + (ulong)j) % n)];
        }
        return ids;
    }
}
