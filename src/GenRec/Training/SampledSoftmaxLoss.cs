using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// Sampled softmax over the item corpus: for each supervised position, the target's cosine logit against R sampled
/// negatives' logits, all divided by τ; a negative that equals the target gets logit −5e4 (it must not count as negative).
/// Loss = −log softmax(target), averaged over positions.
/// </summary>
public static class SampledSoftmaxLoss
{
    /// <summary>The logit given to a sampled negative that is the target itself.</summary>
    public const double CollisionLogit = -5e4;

    /// <summary>
    /// The official code's "local" negatives: <paramref name="rows"/> × <paramref name="count"/> item ids drawn
    /// uniformly, with replacement, from <paramref name="corpus"/> (every item, on the corpus's device). A row may
    /// repeat an item or hold its own target; <see cref="Compute"/> gives the target's copies
    /// <see cref="CollisionLogit"/>.
    /// </summary>
    public static Tensor SampleNegatives(Tensor corpus, long rows, int count)
    {
        using var scope = NewDisposeScope();
        var offsets = randint(0, corpus.shape[0], [rows * count], dtype: ScalarType.Int64, device: corpus.device);
        return corpus.index_select(0, offsets).view(rows, count).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// users: [P, D] L2-normalised; targets: [P] item ids; negatives: [P, R] item ids; itemTable: [V, D] L2-normalised
    /// item embeddings indexed by id. Returns the scalar mean loss.
    /// </summary>
    public static Tensor Compute(Tensor users, Tensor targets, Tensor negatives, Tensor itemTable, double temperature)
    {
        // Two ways to the same logits. Gathering [P, R, D] negative embeddings costs P·R·D; scoring every item once
        // ([P, V] by one matrix product) and gathering logits costs P·V. The second wins whenever the item table is
        // smaller than R·D rows (ML-1M: 3,953 < 128 × 50) and its backward is a dense product, not a scatter.
        bool dense = itemTable.shape[0] <= negatives.shape[1] * itemTable.shape[1];
        return dense ? ComputeDense(users, targets, negatives, itemTable, temperature) : ComputeGathered(users, targets, negatives, itemTable, temperature);
    }

    /// <summary>The same loss by gathering each negative's embedding (cheaper for large catalogs).</summary>
    public static Tensor ComputeGathered(Tensor users, Tensor targets, Tensor negatives, Tensor itemTable, double temperature)
    {
        using var scope = NewDisposeScope();
        var pos = (users * itemTable.index_select(0, targets)).sum(-1, keepdim: true);                  // [P, 1]
        var negEmb = itemTable.index_select(0, negatives.flatten()).view(negatives.shape[0], negatives.shape[1], -1); // [P, R, D]
        var neg = negEmb.bmm(users.unsqueeze(-1)).squeeze(-1);                                           // [P, R]
        return Finish(pos, neg, targets, negatives, temperature).MoveToOuterDisposeScope();
    }

    /// <summary>The same loss by scoring every item once (cheaper for small catalogs).</summary>
    public static Tensor ComputeDense(Tensor users, Tensor targets, Tensor negatives, Tensor itemTable, double temperature)
    {
        using var scope = NewDisposeScope();
        var all = users.matmul(itemTable.t());                                                           // [P, V]
        var pos = all.gather(1, targets.unsqueeze(1));
        var neg = all.gather(1, negatives);
        return Finish(pos, neg, targets, negatives, temperature).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The loss with each draw of negatives shared by a group of consecutive positions: <paramref name="users"/> [P, D]
    /// L2-normalised, <paramref name="targets"/> [P], <paramref name="negatives"/> [⌈P / g⌉, R] item ids, where
    /// position p uses row ⌊p / <paramref name="g"/>⌋. Logits are one batched product [⌈P / g⌉, g, R]: the same P·R·D multiply-adds as
    /// <see cref="ComputeGathered"/> without gathering (and, in backward, scattering) a [P, R, D] tensor.
    /// </summary>
    public static Tensor ComputeGrouped(Tensor users, Tensor targets, Tensor negatives, int g, Tensor itemTable, double temperature)
    {
        using var scope = NewDisposeScope();
        long p = users.shape[0], d = users.shape[1], groups = negatives.shape[0], r = negatives.shape[1];
        if (g < 1 || groups != (p + g - 1) / g) throw new ArgumentException($"{p} positions in groups of {g} need {(p + g - 1) / Math.Max(g, 1)} rows of negatives; got {groups}.", nameof(negatives));
        var pos = (users * itemTable.index_select(0, targets)).sum(-1, keepdim: true);                    // [P, 1]
        var padded = groups * g == p ? users : nn.functional.pad(users, [0, 0, 0, groups * g - p]);
        var negEmb = itemTable.index_select(0, negatives.flatten()).view(groups, r, d);                    // [G, R, D]
        var neg = padded.view(groups, g, d).bmm(negEmb.transpose(1, 2)).view(groups * g, r).narrow(0, 0, p); // [P, R]
        var negIds = negatives.repeat_interleave(g, dim: 0).narrow(0, 0, p);
        return Finish(pos, neg, targets, negIds, temperature).MoveToOuterDisposeScope();
    }

    private static Tensor Finish(Tensor pos, Tensor neg, Tensor targets, Tensor negatives, double temperature)
    {
        var logits = cat([pos, neg], 1).div(Scalars.Of(temperature));
        var collide = cat([zeros_like(targets, dtype: ScalarType.Bool).unsqueeze(1), negatives.eq(targets.unsqueeze(1))], 1);
        logits = logits.masked_fill(collide, Scalars.Of(CollisionLogit));
        return -logits.log_softmax(1).select(1, 0).mean();
    }
}
