using GenRec.Data;
using GenRec.Model;

namespace GenRec.Training;

/// <summary>
/// The batches of one epoch, deterministic for (seed, epoch): the training users in a seeded shuffle, stochastic
/// length applied where configured (paper §3.3), cut into batches of <see cref="TrainingConfig.BatchSize"/>. A resumed
/// run rebuilds the same plan and skips the steps already taken.
/// </summary>
internal static class EpochPlan
{
    public static List<TokenWindow[]> Batches(IReadOnlyList<TokenWindow> train, ExperimentConfig config,
        int epoch)
    {
        var t = config.Training;
        var order = train.ToArray();
        // Deterministic across processes (HashCode.Combine is salted per process, so it would not reproduce).
        var rng = new Random(unchecked(t.Seed * 1_000_003 + epoch));
        rng.Shuffle(order);
        if (t.StochasticLengthAlpha > 0)
            for (int i = 0; i < order.Length; i++) order[i] = StochasticLength.Apply(order[i], config.Model.MaxLength,
                t.StochasticLengthAlpha, rng);
        var batches = new List<TokenWindow[]>((order.Length + t.BatchSize - 1) / t.BatchSize);
        for (int s = 0; s < order.Length; s += t.BatchSize)
            batches.Add(order.AsSpan(s, Math.Min(t.BatchSize, order.Length - s)).ToArray());
        return batches;
    }
}
