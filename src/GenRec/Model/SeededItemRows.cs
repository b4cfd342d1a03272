using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// The item table's initial rows drawn from the item ids rather than from the process's generator: ids in blocks of
/// <see cref="Block"/>, each block from a generator seeded by (seed, block), with the encoder's recipe (normal →
/// fmod 2 → × 0.02; row 0, padding, zero). Any subset of rows (a shard) is then drawn without the rest of the table
/// ever existing, and a replicated table equals the union of its shards. Used with
/// <see cref="TrainingConfig.ExampleSeeded"/>.
/// </summary>
public static class SeededItemRows
{
    /// <summary>Ids per seeded block.</summary>
    public const int Block = 4096;

    /// <summary>
    /// Rows <paramref name="first"/>, first + <paramref name="stride"/>, … below <paramref name="rows"/> of a table of
    /// width <paramref name="dim"/>: a [count, dim] tensor.
    /// </summary>
    public static Tensor Draw(int seed, long rows, long dim, long first = 0, long stride = 1)
    {
        if (stride < 1 || first < 0)
            throw new ArgumentException($"rows from {first} every {stride}: expected a first row ≥ 0, a stride ≥ 1.");
        long count = first < rows ? (rows - first + stride - 1) / stride : 0;
        var result = zeros(count, dim);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (long start = 0; start < rows; start += Block)
        {
            long size = Math.Min(Block, rows - start);
            // This block's ids that are ours: first + k·stride within [start, start + size).
            long k0 = start <= first ? 0 : (start - first + stride - 1) / stride;
            long id0 = first + k0 * stride;
            if (id0 >= start + size) continue;
            using var generator = new TorchSharp.torch.Generator(
                (ulong)(SplitMix64.Mix(SplitMix64.Mix((ulong)seed) ^ (ulong)(start / Block)) >> 1));
            using var block = empty(size, dim).normal_(generator: generator).fmod_(Scalars.Of(2.0)).mul_(
                Scalars.Of(0.02));
            using var mine = arange(Scalars.Of(id0 - start), Scalars.Of(size), Scalars.Of(stride),
                dtype: ScalarType.Int64);
            long n = mine.shape[0];
            result.narrow(0, k0, n).copy_(block.index_select(0, mine));
        }
        if (first == 0 && count > 0) result[0].zero_();
        return result;
    }
}
