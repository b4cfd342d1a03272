using System.Diagnostics;
using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// No lost training: a run stopped at any step (cancelled, crashed, or killed with SIGKILL) and resumed from its
/// checkpoint ends with the same weights, bit for bit, as the run never interrupted.
/// </summary>
public class ResumeTests
{
    private static readonly RatingsLog Log = SyntheticData.Generate(new SyntheticOptions { Users = 120, Items = 50, Interests = 4, MinLength = 6, MaxLength = 20, Seed = 21 });
    private static readonly GenRec.Data.Features.PreparedDataset Data = DataSource.FromRatings(Log);

    private static ExperimentConfig Config(int checkpointEvery = 0) => new()
    {
        Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 2, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 20, Dropout = 0.2 },
        Training = new TrainingConfig { Epochs = 3, BatchSize = 16, NumNegatives = 6, EvalEvery = 2, CheckpointEvery = checkpointEvery, NegativesSharedBy = 4 },
    };

    private static Dictionary<string, float[]> Weights(nn.Module model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float32).data<float>().ToArray());

    private static void AssertSameWeights(Dictionary<string, float[]> want, Dictionary<string, float[]> got)
    {
        Assert.Equal(want.Keys.Order(), got.Keys.Order());
        foreach (var (name, w) in want) Assert.True(w.AsSpan().SequenceEqual(got[name]), $"{name} differs");
    }

    private static Dictionary<string, float[]> Uninterrupted(ExperimentConfig cfg)
    {
        using var dir = new TempDir();
        using var t = new Trainer(cfg, Data, CPU) { RunDirectory = dir.Path };
        t.Run();
        return Weights(t.Model);
    }

    [Fact]
    public void CancelledAtARandomStepThenResumedGivesTheSameWeights()
    {
        var want = Uninterrupted(Config());
        var rng = new Random(3);
        for (int trial = 0; trial < 3; trial++)
        {
            using var dir = new TempDir();
            int stopAt = rng.Next(1, 20); // of 24 steps
            using (var cancel = new CancellationTokenSource())
            using (var first = new Trainer(Config(), Data, CPU) { RunDirectory = dir.Path })
            {
                int seen = 0;
                first.Progress = new Reporter(p => { if (p.Phase != "eval" && ++seen == stopAt) cancel.Cancel(); });
                first.Run(cancel.Token);
                Assert.True(first.Interrupted);
            }
            using var second = new Trainer(Config(), Data, CPU) { RunDirectory = dir.Path };
            var header = second.Resume();
            Assert.Equal(stopAt, header.Epoch * 8 + header.Step);
            second.Run();
            Assert.False(second.Interrupted);
            AssertSameWeights(want, Weights(second.Model));
            Assert.Equal(3, File.ReadAllLines(Path.Combine(dir.Path, "metrics.jsonl")).Length);
        }
    }

    [Fact]
    public void CrashedBetweenCheckpointsResumesFromTheLastOneAndGivesTheSameWeights()
    {
        var want = Uninterrupted(Config(checkpointEvery: 3));
        using var dir = new TempDir();
        using (var first = new Trainer(Config(checkpointEvery: 3), Data, CPU) { RunDirectory = dir.Path })
        {
            int seen = 0;
            // 8 steps an epoch, a checkpoint every 3 within it. A crash while reporting step 14 (epoch 2, step 6), before
            // that step's checkpoint is written: the one of epoch 2, step 3 remains, and 3 steps are redone.
            first.Progress = new Reporter(p => { if (p.Phase != "eval" && ++seen == 14) throw new IOException("simulated crash"); });
            Assert.Throws<IOException>(() => first.Run());
        }
        using var second = new Trainer(Config(checkpointEvery: 3), Data, CPU) { RunDirectory = dir.Path };
        var header = second.Resume();
        Assert.Equal((1, 3), (header.Epoch, header.Step));
        second.Run();
        AssertSameWeights(want, Weights(second.Model));
    }

    [Fact]
    public void ResumeRefusesChangedDataAndChangedConfig()
    {
        using var dir = new TempDir();
        using (var first = new Trainer(Config() with { Training = Config().Training with { Epochs = 1 } }, Data, CPU) { RunDirectory = dir.Path })
            first.Run();
        var other = TestData.Synthetic(new SyntheticOptions { Users = 120, Items = 50, Interests = 4, MinLength = 6, MaxLength = 20, Seed = 22 });
        using (var changed = new Trainer(Config(), other, CPU) { RunDirectory = dir.Path })
            Assert.Contains("data changed", Assert.Throws<InvalidDataException>(() => changed.Resume()).Message);
        var wider = Config() with { Model = Config().Model with { EmbeddingDim = 12, QkDim = 12, VDim = 12 } };
        using (var changed = new Trainer(wider, Data, CPU) { RunDirectory = dir.Path })
            Assert.Contains("another config", Assert.Throws<InvalidDataException>(() => changed.Resume()).Message);
        // More epochs is allowed: it extends the run.
        using var more = new Trainer(Config(), Data, CPU) { RunDirectory = dir.Path };
        Assert.Equal(1, more.Resume().Epoch);
        Assert.Equal(3, more.Run().Count);
    }

    [Fact]
    public void NonFiniteLossStopsNamingTheStepAndKeepsTheLastGoodCheckpoint()
    {
        using var dir = new TempDir();
        using var t = new Trainer(Config(), Data, CPU) { RunDirectory = dir.Path };
        int steps = 0;
        t.LossFault = loss => ++steps == 11 ? loss.mul(Scalars.Of(double.NaN)) : loss;
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Contains("epoch 2, step 3", e.Message);
        Assert.Contains("NaN", e.Message);
        var info = Checkpoint.ReadHeader(Path.Combine(dir.Path, "checkpoint.ckpt"));
        Assert.Equal((1, 0), (info.Epoch, info.Step));
        var (_, model) = Checkpoint.Load(Path.Combine(dir.Path, "checkpoint.ckpt"), CPU);
        Assert.All(Weights(model).Values, w => Assert.All(w, x => Assert.True(float.IsFinite(x))));
        model.Dispose();
    }

    [Fact]
    public void NonFiniteGradientWithAFiniteLossStopsNamingTheParameter()
    {
        using var t = new Trainer(Config(), Data, CPU);
        var p = t.Model.parameters().First();
        int steps = 0;
        // Finite value (0 · √0 = 0), NaN gradient (0 · ∞).
        t.LossFault = loss => ++steps == 5 ? loss.Plus(p.Minus(p).sum().sqrt().mul(Scalars.Of(0.0))) : loss;
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Contains("epoch 1, step 5", e.Message);
        Assert.Contains("gradient of parameter #0", e.Message);
    }

    [Fact]
    public void SigkillAtRandomMomentsThenResumeGivesTheSameWeights()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "log.csv");
        TestData.WriteRatingsCsv(Log, csv);
        var cfgPath = dir.Write("cfg.json", Config(checkpointEvery: 2).ToJson());
        string[] Train(string run) => ["train", "--config", cfgPath, "--data", csv, "--out", run, "--threads", "1"];
        string[] Resume(string run) => ["train", "--resume", run, "--data", csv, "--threads", "1"];

        var straight = Path.Combine(dir.Path, "straight");
        Assert.Equal(0, GenRecCli.Run(Train(straight)).ExitCode);
        var want = Load(straight);

        var rng = new Random(9);
        int kills = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var run = Path.Combine(dir.Path, $"killed-{trial}");
            var args = Train(run);
            // Kill after the first checkpoint exists, at a random moment, then resume (and kill again while resuming, once).
            for (int attempt = 0; attempt < 2; attempt++)
            {
                using var p = GenRecCli.Start(args);
                var ckpt = Path.Combine(run, "checkpoint.ckpt");
                var clock = Stopwatch.StartNew();
                var before = File.Exists(ckpt) ? File.GetLastWriteTimeUtc(ckpt) : DateTime.MinValue;
                while (!p.HasExited && (!File.Exists(ckpt) || File.GetLastWriteTimeUtc(ckpt) == before) && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(5);
                Thread.Sleep(rng.Next(0, 400));
                if (!p.HasExited) { p.Kill(entireProcessTree: true); kills++; }
                p.WaitForExit();
                args = Resume(run);
            }
            var last = GenRecCli.Run(Resume(run));
            Assert.True(last.ExitCode == 0, last.Output);
            AssertSameWeights(want, Load(run));
        }
        Assert.True(kills >= 3, $"only {kills} of the SIGKILLs landed before the run finished");
    }

    private static Dictionary<string, float[]> Load(string run)
    {
        var (_, model) = Checkpoint.Load(Path.Combine(run, "checkpoint.ckpt"), CPU);
        using (model) return Weights(model);
    }

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
