using GenRec.Data;
using GenRec.Evaluation;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class EndToEndTests
{
    [Fact]
    public void HstuTrainedOnGeneratedSequencesBeatsMostPopularByAWideMargin()
    {
        var data = TestData.Synthetic(new SyntheticOptions { Users = 400, Items = 240, Interests = 8, MinLength = 15, MaxLength = 60, Seed = 3 });
        var cfg = new ExperimentConfig
        {
            Name = "e2e",
            Model = new ModelConfig { EmbeddingDim = 32, NumLayers = 2, NumHeads = 2, QkDim = 16, VDim = 16, MaxLength = 60, Dropout = 0.1 },
            Training = new TrainingConfig { Epochs = 12, BatchSize = 64, NumNegatives = 32, Seed = 1, EvalEvery = 0 },
        };
        using var dir = new TempDir();
        using var trainer = new Trainer(cfg, data, CPU) { RunDirectory = dir.Path };
        var results = trainer.Run();
        var hstu = results[^1].Metrics!;
        var pop = PopularityBaseline.Evaluate(trainer.Split.Eval, data.Corpus, PopularityBaseline.Counts(trainer.Split.Train));

        Assert.True(results[^1].TrainLoss < results[0].TrainLoss, "loss must go down");
        Assert.True(hstu.Hr10 > 2 * pop.Hr10, $"HSTU HR@10 {hstu.Hr10:F3} vs popularity {pop.Hr10:F3}");
        Assert.True(hstu.Ndcg10 > 2 * pop.Ndcg10, $"HSTU NDCG@10 {hstu.Ndcg10:F3} vs popularity {pop.Ndcg10:F3}");

        // The run folder has what a user looks for, and the checkpoint reproduces the metrics.
        Assert.Equal(12, File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl")).Length);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(Path.Combine(dir.Path, "curves.png"))[..4]);
        var (info, model) = Checkpoint.Load(Path.Combine(dir.Path, "checkpoint.ckpt"), CPU);
        using (model)
        {
            Assert.Equal(12, info.Epoch);
            Assert.Equal(cfg.Model, info.Config.Model);
            var again = Evaluator.Evaluate(model, trainer.Split.Eval, data.Corpus, CPU);
            Assert.Equal(hstu.Ndcg10, again.Ndcg10, 6);
        }
    }

    [Fact]
    public void SasRecTrainsWithTheSameLoop()
    {
        var data = TestData.Synthetic(new SyntheticOptions { Users = 120, Items = 80, Interests = 4, MinLength = 8, MaxLength = 20, Seed = 4 });
        var cfg = new ExperimentConfig
        {
            Model = new ModelConfig { Encoder = "sasrec", EmbeddingDim = 16, NumLayers = 1, NumHeads = 2, MaxLength = 20 },
            Training = new TrainingConfig { Epochs = 3, BatchSize = 32, NumNegatives = 8, EvalEvery = 0 },
        };
        using var trainer = new Trainer(cfg, data, CPU);
        var r = trainer.Run();
        Assert.True(r[^1].TrainLoss < r[0].TrainLoss);
        Assert.NotNull(r[^1].Metrics);
    }

    [Fact]
    public void SameSeedGivesTheSameRun()
    {
        var data = TestData.Synthetic(new SyntheticOptions { Users = 60, Items = 40, Interests = 4, MinLength = 6, MaxLength = 12, Seed = 5 });
        var cfg = new ExperimentConfig
        {
            Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 12 },
            Training = new TrainingConfig { Epochs = 2, BatchSize = 16, NumNegatives = 4, EvalEvery = 0 },
        };
        double Run() { using var t = new Trainer(cfg, data, CPU); return t.Run()[^1].TrainLoss; }
        Assert.Equal(Run(), Run(), 10);
    }
}
