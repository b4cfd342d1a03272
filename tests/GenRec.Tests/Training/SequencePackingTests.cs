using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class SequencePackingTests
{
    [Fact]
    public void FirstFitDecreasingPlacesEverySequenceOnceWithinCapacity()
    {
        int[] lengths = [7, 3, 5, 2, 10, 1, 4];
        var rows = SequencePacking.FirstFitDecreasing(lengths, 10);
        // By hand: 10 | 7+3 | 5+4+1 | 2.
        Assert.Equal([[4], [0, 1], [2, 6, 5], [3]], rows.Select(r => r.ToArray()).ToArray());
        Assert.Throws<ArgumentException>(() => SequencePacking.FirstFitDecreasing([11], 10));
    }

    [Fact]
    public void PackedBatchPlacesSequencesAndRestartsPositions()
    {
        long[][] items = [[1, 2, 3], [4, 5], [6]];
        long[][] times = [[10, 20, 30], [5, 6], [7]];
        using var batch = SequenceBatch.CreatePacked(items, times, [[0], [1, 2]], CPU);
        Assert.Equal(3, batch.Width);
        Assert.Equal([0L, 3, 5], batch.Starts);
        Assert.Equal([1L, 2, 3, 4, 5, 6], batch.Ids.data<long>().ToArray());
        Assert.Equal([0L, 1, 2, 0, 1, 0], batch.Positions!.data<long>().ToArray());
        // t_{i+1} within each sequence; a sequence's last position uses its own last time, never the next sequence's.
        Assert.Equal([20L, 30, 30, 6, 6, 7], batch.QueryTimestamps.data<long>().ToArray());
        using var mask = batch.AttentionMask()!;
        // Row 1: tokens 0–1 are one user, token 2 another; causal within each, nothing across.
        Assert.Equal([true, false, false, true, true, false, false, false, true], mask[1, 0].data<bool>().ToArray());
        Assert.Throws<ArgumentException>(() => SequenceBatch.CreatePacked(items, times, [[0, 1]], CPU));
        Assert.Throws<ArgumentException>(() => SequenceBatch.CreatePacked(items, times, [[0, 1], [1, 2]], CPU));
    }

    [Theory]
    [InlineData("hstu")]
    [InlineData("sasrec")]
    public void PackedRowsEncodeEachSequenceAsItsOwnRowDoes(string encoder)
    {
        manual_seed(5);
        var config = new ModelConfig { Encoder = encoder, EmbeddingDim = 8, NumLayers = 2, NumHeads = 2, QkDim = 4, VDim = 4, MaxLength = 12, Dropout = 0 };
        using var model = SequenceEncoder.Create(config, 30);
        model.eval();
        var rng = new Random(4);
        var items = new List<long[]>();
        var times = new List<long[]>();
        foreach (int len in new[] { 9, 4, 5, 3, 1, 12 })
        {
            items.Add(Enumerable.Range(0, len).Select(_ => (long)rng.Next(1, 30)).ToArray());
            long t = 1000;
            times.Add(Enumerable.Range(0, len).Select(_ => t += rng.Next(1, 100_000)).ToArray());
        }
        var rows = SequencePacking.FirstFitDecreasing(items.Select(i => i.Length).ToList(), 12);
        Assert.True(rows.Count < items.Count);
        using var _ = no_grad();
        using var packed = SequenceBatch.CreatePacked(items, times, rows, CPU);
        using var outPacked = model.forward(packed);
        using var flat = outPacked.view(-1, 8);
        for (int i = 0; i < items.Count; i++)
        {
            using var alone = SequenceBatch.Create([items[i]], [times[i]], null, CPU);
            using var want = model.forward(alone)[0];
            using var got = flat.narrow(0, packed.Starts[i], items[i].Length);
            Assert.True(want.allclose(got, rtol: 1e-4, atol: 1e-5), $"{encoder}, sequence {i}: max |Δ| {(want - got).abs().max().item<float>()}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void GroupedNegativesLossEqualsPerPositionLossWithEachGroupsNegativesRepeated(int g)
    {
        manual_seed(2);
        long p = 7, d = 5, r = 6, v = 20, groups = (p + g - 1) / g;
        using var users = nn.functional.normalize(randn(p, d), dim: -1);
        using var table = nn.functional.normalize(randn(v, d), dim: -1);
        using var targets = tensor(new long[] { 3, 4, 5, 6, 7, 8, 9 });
        using var negatives = randint(1, v, [groups, r], dtype: ScalarType.Int64);
        negatives[0, 0] = tensor(3L); // a collision with position 0's target
        using var grouped = SampledSoftmaxLoss.ComputeGrouped(users, targets, negatives, g, table, 0.05);
        using var perPosition = negatives.index_select(0, arange(Scalars.Of((long)p)).div(Scalars.Of((long)g), rounding_mode: RoundingMode.floor));
        using var want = SampledSoftmaxLoss.ComputeGathered(users, targets, perPosition, table, 0.05);
        Assert.Equal(want.item<float>(), grouped.item<float>(), 4);
        Assert.Throws<ArgumentException>(() => SampledSoftmaxLoss.ComputeGrouped(users, targets, randint(1, v, [groups + 1, r], dtype: ScalarType.Int64), g, table, 0.05));
    }

    [Fact]
    public void PackedTrainingWithGroupedNegativesRunsWithLittlePadding()
    {
        var data = TestData.Synthetic(new SyntheticOptions { Users = 150, Items = 60, Interests = 4, MinLength = 5, MaxLength = 40, Seed = 9 });
        var config = new ExperimentConfig
        {
            Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 40 },
            Training = new TrainingConfig { Epochs = 1, BatchSize = 32, NumNegatives = 4, EvalEvery = 0, NegativesSharedBy = 8 },
        };
        using var packed = new Trainer(config, data, CPU);
        var batches = packed.EpochBatches(1).Take(3).ToList();
        packed.Model.train();
        var steps = batches.Select((b, i) =>
        {
            packed.Step(b, out long tokens, out long padded, 1, i + 1);
            return (Tokens: tokens, PaddedTokens: padded);
        }).ToList();
        // Each step trains its batch's users, on fewer padded tokens than rows padded to each batch's longest user.
        Assert.Equal(batches.Select(b => b.Sum(s => (long)s.History.Length)), steps.Select(s => s.Tokens));
        long rowsPadded = batches.Sum(b => (long)b.Length * b.Max(s => s.History.Length));
        Assert.True(steps.Sum(s => s.PaddedTokens) < rowsPadded, $"{steps.Sum(s => s.PaddedTokens)} vs {rowsPadded}");
        Assert.Throws<ArgumentException>(() => new TrainingConfig { NegativesSharedBy = 0 }.Validate());
    }
}
