using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class RankingTrainerTests
{
    /// <summary>Users like the items of their favourite category and skip the rest: the actions in the history reveal the taste.</summary>
    internal static PreparedDataset TasteLog(TempDir dir)
    {
        var rng = new Random(11);
        var sb = new System.Text.StringBuilder("user,item,action,ts\n");
        for (int u = 1; u <= 400; u++)
        {
            int favourite = rng.Next(3);
            long t = 1_000_000;
            for (int e = 0; e < 30; e++)
            {
                int item = 1 + rng.Next(60);
                sb.Append($"{u},{item},{(item % 3 == favourite ? "like" : "skip")},{t += 1 + rng.Next(100)}\n");
            }
        }
        dir.Write("events.csv", sb.ToString());
        var schema = FeatureSchema.Parse("""
        { "sources": [ { "file": "events.csv", "header": true, "columns": [
            { "name": "user", "role": "user" }, { "name": "item", "role": "item" },
            { "name": "action", "role": "action", "positive": ["like"], "negative": ["skip"] }, { "name": "ts", "role": "timestamp" } ] } ] }
        """);
        new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "p"));
        return PreparedDataset.Open(Path.Combine(dir.Path, "p"));
    }

    private static ExperimentConfig Config(int epochs) => new()
    {
        Model = new ModelConfig { EmbeddingDim = 16, NumLayers = 2, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 80, Dropout = 0.1 },
        Training = new TrainingConfig { Epochs = epochs, BatchSize = 32, LearningRate = 0.01, Seed = 2, EvalEvery = 0 },
    };

    [Fact]
    public void SummedVariantLearnsTheTasteFromActionsInTheHistory()
    {
        using var dir = new TempDir();
        using var data = TasteLog(dir);
        var split = RankingSplit.Create(data, maxHistoryTokens: 40, candidates: 10, seed: 1);
        using var trainer = new RankingTrainer(Config(30), data, split, interleaved: false, CPU);
        var losses = trainer.Run();
        Assert.True(losses[^1] < losses[0], "loss must go down");
        var like = trainer.Evaluate().Binary["like"];
        Assert.True(like.Auc > 0.8, $"AUC {like.Auc:F3}");
        Assert.True(like.Gauc > 0.8, $"GAUC {like.Gauc:F3}");
        Assert.True(like.Ne < 0.9, $"NE {like.Ne:F3}");
    }

    [Fact]
    public void DlrmBaselineTrainsWithTheSameLoop()
    {
        using var dir = new TempDir();
        using var data = TasteLog(dir);
        var split = RankingSplit.Create(data, maxHistoryTokens: 40, candidates: 10, seed: 1);
        using var trainer = new RankingTrainer(Config(10), split, CPU, () => new DlrmRanker(data.ItemTableSize, data.Features, split.Tasks, dim: 16, hidden: 32));
        var losses = trainer.Run();
        Assert.True(losses[^1] < losses[0], "loss must go down");
        var like = trainer.Evaluate().Binary["like"];
        Assert.True(like.Auc > 0.6, $"AUC {like.Auc:F3}");
    }

    [Fact]
    public void InterleavedVariantTrainsAndScoresCandidatesWithMFalcon()
    {
        using var dir = new TempDir();
        using var data = TasteLog(dir);
        var split = RankingSplit.Create(data, maxHistoryTokens: 40, candidates: 10, seed: 1);
        using var trainer = new RankingTrainer(Config(15), data, split, interleaved: true, CPU);
        var losses = trainer.Run();
        Assert.True(losses[^1] < losses[0], "loss must go down");
        var eval = trainer.Evaluate();
        Assert.Equal(split.Test.Count, eval.Users);
        var like = eval.Binary["like"];
        Assert.True(like.Auc > 0.8, $"AUC {like.Auc:F3}");
        Assert.True(like.Gauc > 0.8, $"GAUC {like.Gauc:F3}");
    }

    [Theory]
    [InlineData("interleaved")]
    [InlineData("summed")]
    [InlineData("dlrm")]
    public void RankingCheckpointsScoreTheSameAfterLoading(string variant)
    {
        using var dir = new TempDir();
        using var data = TasteLog(dir);
        var split = RankingSplit.Create(data, maxHistoryTokens: 40, candidates: 10, seed: 1);
        var cfg = Config(2) with { Ranking = new RankingConfig { Variant = variant, HeadHidden = 16, MicroBatch = 3 } };
        using var trainer = new RankingTrainer(cfg, data, split, CPU);
        trainer.Run();
        var eval = trainer.Evaluate();
        var path = Path.Combine(dir.Path, "rank.ckpt");
        trainer.Save(path, data, 2, eval);

        var (info, loaded) = Checkpoint.LoadRanker(path, CPU);
        using var _ = loaded;
        Assert.Equal(variant == "interleaved", loaded.Interleaved);
        Assert.Equal(split.Tasks, loaded.Tasks);
        Assert.Equal(eval.Binary["like"].Auc, info.RankingMetrics!["binary"]!["like"]!["auc"]!.GetValue<double>(), 12);
        trainer.Model.eval();
        var e = split.Test[0];
        var h = RankingSequence.From(e.History, [], loaded.Interleaved).AsHistory(e.RequestTime);
        using var before = trainer.Model.ScoreCandidates(h, e.Candidates, e.RequestTime, CPU, 3);
        using var after = loaded.ScoreCandidates(h, e.Candidates, e.RequestTime, CPU, 3);
        Assert.True(before.sub(after).abs().max().item<float>() < 1e-6f);

        var wrongKind = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, CPU));
        Assert.Contains("ranking checkpoint", wrongKind.Message);
    }

    [Fact]
    public void InterleavedItemsNeverSeeTheirOwnAction()
    {
        var h = new TokenWindow(1, [5, 6, 7], [10, 20, 30], 0, 40) { HistoryKinds = [0, 0, 0], HistoryActions = [1, 2, 1] };
        float[]?[] labels = [[1f], [0f], [1f]];
        var s = RankingSequence.From(h, labels, interleaved: true);
        Assert.Equal([5L, 1, 6, 2, 7, 1], s.Tokens);
        Assert.Equal([0, Token.ActionKind, 0, Token.ActionKind, 0, Token.ActionKind], s.Kinds);
        Assert.Equal([0, 2, 4], s.ReadAt);          // read at Φ_i, which precedes a_i
        Assert.Null(s.Actions);
        var summed = RankingSequence.From(h, labels, interleaved: false);
        Assert.Equal([5L, 6, 7], summed.Tokens);
        Assert.Equal([0, 1], summed.ReadAt);        // item i is predicted from the output before it
        Assert.Equal([6L, 7], summed.Items);
    }
}
