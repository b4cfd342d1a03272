using System.Text.Json;
using GenRec.Data;
using GenRec.Evaluation;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

/// <summary>
/// Model selection done right: the epoch is chosen on the validation item only, the chosen model is the one kept,
/// training can stop when validation stops improving, and the test item is evaluated once, at the chosen epoch.
/// </summary>
public class ModelSelectionTests
{
    private static readonly RatingsLog Log = SyntheticData.Generate(new SyntheticOptions
    {
        Users = 150,
        Items = 60,
        Interests = 4,
        MinLength = 6,
        MaxLength = 20,
        Seed = 5,
    });

    private static readonly GenRec.Data.Features.PreparedDataset Data = DataSource.FromRatings(Log);

    private static ExperimentConfig Config(int epochs, int patience = 0) => new()
    {
        Model = new ModelConfig
        {
            EmbeddingDim = 8,
            NumLayers = 1,
            NumHeads = 1,
            QkDim = 8,
            VDim = 8,
            MaxLength = 20,
            Dropout = 0.1,
        },
        // A high learning rate: validation peaks within a few epochs, then wanders.
        Training = new TrainingConfig
        {
            Epochs = epochs,
            BatchSize = 16,
            NumNegatives = 8,
            LearningRate = 0.02,
            Seed = 3,
            Split = "validation",
            SelectBy = "ndcg@10",
            Patience = patience,
        },
    };

    [Fact]
    public void TheBestValidationEpochIsKeptAndTestIsReportedOnceAtIt()
    {
        using var dir = new TempDir();
        using var trainer = new Trainer(Config(6), Data, CPU) { RunDirectory = dir.Path };
        trainer.Run();
        var chosen = trainer.Selection!;

        var best = trainer.History.MaxBy(h => h.Metrics!.Ndcg10)!;
        Assert.Equal(best.Epoch, chosen.BestEpoch);
        Assert.Equal(best.Metrics, chosen.Validation);
        Assert.Equal(6, chosen.EpochsTrained);
        Assert.False(chosen.StoppedEarly);
        // The evaluations during training were on the validation item (the second-to-last), never on the test item.
        using var kept = Model(dir);
        var validation = Data.Split(20, EvalSplit.Validation, new());
        Assert.Equal(chosen.Validation, Evaluator.Evaluate(kept, validation.Eval, Data.Corpus, CPU, 256));

        // best.ckpt is the chosen epoch's model, and its test metrics are the reported ones.
        Assert.Equal(chosen.BestEpoch, Checkpoint.ReadHeader(Path.Combine(dir.Path, "best.ckpt")).Epoch);
        var test = Data.Split(20, EvalSplit.Test, new());
        Assert.Equal(chosen.Test, Evaluator.Evaluate(kept, test.Eval, Data.Corpus, CPU, 256));
        // And the trainer's model holds those weights at the end.
        Assert.Equal(chosen.Test, Evaluator.Evaluate(trainer.Model, test.Eval, Data.Corpus, CPU, 256));

        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, "selection.json"))).RootElement;
        Assert.Equal(chosen.BestEpoch, json.GetProperty("bestEpoch").GetInt32());
        Assert.Equal(chosen.Test.Ndcg10, json.GetProperty("test").GetProperty("ndcg10").GetDouble());
    }

    private static SequenceEncoder Model(TempDir run) =>
        Checkpoint.Load(Path.Combine(run.Path, "best.ckpt"), CPU).Model;

    [Fact]
    public void PatienceStopsTrainingAfterThatManyEvaluationsWithoutABetterValue()
    {
        using var trainer = new Trainer(Config(40, patience: 2), Data, CPU);
        trainer.Run();
        var chosen = trainer.Selection!;
        Assert.True(trainer.StoppedEarly, "validation kept improving for 40 epochs at learning rate 0.02");
        Assert.True(chosen.StoppedEarly);
        Assert.Equal(chosen.BestEpoch + 2, trainer.History[^1].Epoch);
        Assert.Equal(trainer.History.Count, chosen.EpochsTrained);
        Assert.All(trainer.History.Where(h => h.Epoch > chosen.BestEpoch),
            h => Assert.True(h.Metrics!.Ndcg10 <= chosen.Validation.Ndcg10));
    }

    [Fact]
    public void AResumedRunChoosesWhatTheUninterruptedOneChose()
    {
        using var whole = new TempDir();
        SelectionResult uninterrupted;
        using (var t = new Trainer(Config(5), Data, CPU) { RunDirectory = whole.Path })
        {
            t.Run();
            uninterrupted = t.Selection!;
        }
        using var dir = new TempDir();
        using (var first = new Trainer(Config(2), Data, CPU) { RunDirectory = dir.Path }) first.Run();
        using var resumed = new Trainer(Config(5), Data, CPU) { RunDirectory = dir.Path };
        resumed.Resume();
        resumed.Run();
        Assert.Equal(uninterrupted, resumed.Selection);
    }

    [Theory]
    [InlineData("test", "ndcg@10", 0, "selecting an epoch on the test item would report a chosen")]
    [InlineData("validation", "ndgc@10", 0, "training.selectBy is 'ndgc@10'; expected one of hr@10, ndcg@10")]
    [InlineData("validation", "", 3, "training.patience is 3 without training.selectBy")]
    public void ASelectionThatCannotBeHonestIsRefused(string split, string selectBy, int patience, string message)
    {
        var cfg = Config(3) with
        {
            Training = Config(3).Training with { Split = split, SelectBy = selectBy, Patience = patience },
        };
        var e = Assert.Throws<ArgumentException>(() => cfg.Validate());
        Assert.Contains(message, e.Message);
    }
}
