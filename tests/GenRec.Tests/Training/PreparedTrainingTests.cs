using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class PreparedTrainingTests
{
    private static readonly FeatureSpace Space = new()
    {
        TokenKinds = [new TokenKind("gender", "contextual", 3, false), new TokenKind("creator", "auxiliary", 6, true)],
        Actions = ["click", "like"],
        ItemFeatures = [new ItemFeature("genre", 4, 2)],
    };

    private static ModelConfig Small => new() { EmbeddingDim = 8, NumLayers = 2, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 8, Dropout = 0 };

    private static Tensor Run(SequenceEncoder m, long[] ids, byte[] kinds, int[] actions)
    {
        using var b = SequenceBatch.Create([ids], [[1L, 2, 3, 4, 5]], null, CPU, [kinds], [actions]);
        return m.forward(b).detach().clone();
    }

    [Fact]
    public void FeatureTokensAndActionsReachTheOutputCausally()
    {
        manual_seed(7);
        using var m = SequenceEncoder.Create(Small, 10, Space);
        m.eval();
        byte[] kinds = [1, 0, 2, 0, 0];
        long[] ids = [1, 4, 3, 5, 6];
        using var baseOut = Run(m, ids, kinds, [0, 1, 0, 2, 1]);
        using var otherAction = Run(m, ids, kinds, [0, 1, 0, 1, 1]);
        using var otherContext = Run(m, [2, 4, 3, 5, 6], kinds, [0, 1, 0, 2, 1]);
        float Diff(Tensor a, Tensor b, int pos) => a[0, pos].sub(b[0, pos]).abs().max().item<float>();
        // The action on the item at position 3 is visible from position 3 on, never before.
        for (int p = 0; p < 3; p++) Assert.Equal(0f, Diff(baseOut, otherAction, p));
        for (int p = 3; p < 5; p++) Assert.True(Diff(baseOut, otherAction, p) > 1e-6, $"position {p}");
        // A contextual token at the start reaches every position.
        for (int p = 0; p < 5; p++) Assert.True(Diff(baseOut, otherContext, p) > 1e-6, $"position {p}");
    }

    [Fact]
    public void ItemVectorsAreTheItemEmbeddingPlusItsSideFeatures()
    {
        manual_seed(8);
        using var m = SequenceEncoder.Create(Small, 4, Space);
        // item 1: genres {1, 3}; item 2: genre {2}; item 3: none.
        m.SetItemFeatureIds(0, [0, 0, 1, 3, 2, 0, 0, 0]);
        var p = m.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var e = p["items.weight"];
        var g = p["item_features.0.weight"];
        using var ids = tensor(new long[] { 1, 2, 3 });
        using var got = m.ItemVectors(ids);
        using var want1 = e[1].Plus(g[1]).Plus(g[3]);
        using var want2 = e[2].Plus(g[2]);
        Assert.True(got[0].allclose(want1, 1e-6, 1e-6));
        Assert.True(got[1].allclose(want2, 1e-6, 1e-6));
        Assert.True(got[2].allclose(e[3], 1e-6, 1e-6));
        using var table = m.NormalizedItemTable();
        using var direct = m.NormalizedItems(ids);
        Assert.True(table[1..4].allclose(direct, 1e-6, 1e-6));
        Assert.Throws<ArgumentException>(() => m.SetItemFeatureIds(0, [0, 0, 1, 9, 2, 0, 0, 0]));
    }

    [Fact]
    public void TrainsOnAPreparedLogAndTheCheckpointReproducesItsMetrics()
    {
        using var dir = new TempDir();
        var logDir = Path.Combine(dir.Path, "log");
        SyntheticLog.Write(logDir, events: 6000, users: 150, items: 120, seed: 3);
        new SequenceBuilder(FeatureSchema.Load(Path.Combine(logDir, "schema.json")), logDir).Build(Path.Combine(dir.Path, "prepared"));
        using var data = PreparedDataset.Open(Path.Combine(dir.Path, "prepared"));
        Assert.Equal(4, data.Features.TokenKinds.Count);
        Assert.Equal(2, data.Features.ItemFeatures.Count);

        var cfg = new ExperimentConfig
        {
            Model = new ModelConfig { EmbeddingDim = 16, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 30, Dropout = 0.1 },
            Training = new TrainingConfig { Epochs = 3, BatchSize = 32, NumNegatives = 16, EvalEvery = 0 },
        };
        var run = Path.Combine(dir.Path, "run");
        using var trainer = new Trainer(cfg, data, CPU) { RunDirectory = run };
        var r = trainer.Run();
        Assert.True(r[^1].TrainLoss < r[0].TrainLoss, "loss must go down");
        Assert.Contains(trainer.Split.Train, s => s.HistoryKinds is not null && s.HistoryActions is not null);

        var (info, model) = Checkpoint.Load(Path.Combine(run, "checkpoint.ckpt"), CPU);
        using (model)
        {
            Assert.Equal(4, info.Features!.TokenKinds.Count);
            var again = Evaluator.Evaluate(model, trainer.Split.Eval, data.Corpus, CPU);
            Assert.Equal(r[^1].Metrics!.Ndcg10, again.Ndcg10, 6);
            Assert.Equal(r[^1].Metrics!.Mrr, again.Mrr, 6);
        }

        // Switching features off in the config changes what the model embeds.
        var off = cfg with { Features = new FeatureOptions { Actions = false, ItemFeatures = false, Contextual = false, Auxiliary = false } };
        using var plain = new Trainer(off, data, CPU);
        Assert.Empty(plain.Features.Actions);
        Assert.Empty(plain.Features.ItemFeatures);
        Assert.All(plain.Split.Train, s => Assert.Null(s.HistoryKinds));
    }
}
