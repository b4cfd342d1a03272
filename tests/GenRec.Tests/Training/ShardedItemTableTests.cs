using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// The sharded item table (training.shardItems) is the replicated table cut in pieces: its seeded rows are the
/// replicated rows, and training through it (one shard here; two ranks in MpiTests) gives the replicated weights.
/// </summary>
public class ShardedItemTableTests
{
    [Fact]
    public void EveryShardHoldsTheRowsOfTheWholeTableItOwns()
    {
        using var whole = SeededItemRows.Draw(7, 10_000, 6);
        Assert.Equal(0f, whole[0].abs().sum().item<float>());
        Assert.True(whole[1].abs().sum().item<float>() > 0);
        for (int rank = 0; rank < 3; rank++)
        {
            using var shard = SeededItemRows.Draw(7, 10_000, 6, rank, 3);
            using var ids = arange(Scalars.Of((long)rank), Scalars.Of(10_000L), Scalars.Of(3L),
                dtype: ScalarType.Int64);
            using var expected = whole.index_select(0, ids);
            Assert.True(shard.eq(expected).all().item<bool>(), $"rank {rank} of 3");
        }
        using var other = SeededItemRows.Draw(8, 10_000, 6);
        Assert.False(other.eq(whole).all().item<bool>());
    }

    [Fact]
    public void TrainingThroughOneShardGivesTheWeightsOfTheReplicatedTable()
    {
        var rng = new Random(11);
        var events = new List<Interaction>();
        for (int u = 1; u <= 80; u++)
        {
            long t = 1_000_000;
            for (int i = 0, n = rng.Next(6, 16); i < n; i++)
                events.Add(new Interaction(u, rng.Next(1, 61), 5, t += 60));
        }
        var cfg = ExperimentConfig.Load(null, []) with
        {
            Model = new ModelConfig
            {
                EmbeddingDim = 8,
                NumLayers = 1,
                NumHeads = 1,
                QkDim = 8,
                VDim = 8,
                MaxLength = 16,
                Dropout = 0.2
            },
        };
        cfg = cfg with
        {
            Training = cfg.Training with
            {
                Epochs = 2,
                BatchSize = 16,
                NumNegatives = 5,
                EvalEvery = 0,
                ExampleSeeded = true
            }
        };
        using var data = DataSource.FromRatings(new RatingsLog("small", events));
        using var replicated = new Trainer(cfg, data, CPU);
        replicated.Run();
        using var sharded = new Trainer(cfg with { Training = cfg.Training with { ShardItems = true } }, data, CPU);
        sharded.Run();
        double worst = WeightDifference.Largest(sharded.Model, replicated.Model);
        Assert.True(worst < 1e-6, $"largest weight difference {worst:E2}");
        Assert.Equal(replicated.ItemTableBytesHeld, sharded.ItemTableBytesHeld);
    }
}
