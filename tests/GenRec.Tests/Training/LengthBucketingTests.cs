using GenRec.Data;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class LengthBucketingTests
{
    private static Trainer Make(bool bucket, int window = 2) => new(new ExperimentConfig
    {
        Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 40 },
        Training = new TrainingConfig { Epochs = 1, BatchSize = 16, NumNegatives = 4, EvalEvery = 0, BucketByLength = bucket, BucketWindow = window },
    }, TestData.Synthetic(new SyntheticOptions { Users = 150, Items = 60, Interests = 4, MinLength = 5, MaxLength = 40, Seed = 9 }), CPU);

    [Fact]
    public void BucketedEpochsCoverEveryUserOnceWithLessPadding()
    {
        using var random = Make(bucket: false);
        using var bucketed = Make(bucket: true);
        var a = random.EpochBatches(3);
        var b = bucketed.EpochBatches(3);
        // Same users, each once.
        Assert.Equal(random.Split.Train.Count, b.Sum(x => x.Length));
        Assert.Equal(a.SelectMany(x => x).Select(s => s.Items).Order(Comparer<long[]>.Create(Compare)), b.SelectMany(x => x).Select(s => s.Items).Order(Comparer<long[]>.Create(Compare)));
        static long Padded(List<TrainingSequence[]> batches) => batches.Sum(x => (long)x.Length * x.Max(s => s.Items.Length));
        Assert.True(Padded(b) < Padded(a), $"padded tokens {Padded(b)} vs {Padded(a)}");
        // Deterministic for (seed, epoch); another epoch gives other batches.
        Assert.Equal(b.Select(x => x.Select(s => s.Items.Length).ToArray()), bucketed.EpochBatches(3).Select(x => x.Select(s => s.Items.Length).ToArray()));
        Assert.NotEqual(b.Select(x => x[0].Items), bucketed.EpochBatches(4).Select(x => x[0].Items));
    }

    [Fact]
    public void BucketedTrainingRuns()
    {
        using var trainer = Make(bucket: true);
        var steps = trainer.TimeSteps(1, 3);
        Assert.Equal(3, steps.Count);
        Assert.All(steps, s => Assert.True(s.Tokens <= s.PaddedTokens));
    }

    private static int Compare(long[] x, long[] y)
    {
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++) if (x[i] != y[i]) return x[i].CompareTo(y[i]);
        return x.Length.CompareTo(y.Length);
    }
}
