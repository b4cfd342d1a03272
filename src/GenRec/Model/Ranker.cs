using GenRec.Data;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// What the ranking trainer needs from a model: logits at read positions of a training batch and logits for a
/// history's candidates. <see cref="RankingModel"/> (HSTU) and <see cref="DlrmRanker"/> (the baseline) derive from it.
/// </summary>
public abstract class Ranker : nn.Module
{
    /// <summary>Names the module.</summary>
    protected Ranker(string name, IReadOnlyList<RankingTask> tasks, bool interleaved) : base(name)
    {
        Tasks = tasks;
        Interleaved = interleaved;
    }

    /// <summary>The ranker <c>ranking.variant</c> names (HSTU interleaved or summed, or the DLRM baseline), untrained.</summary>
    public static Ranker Create(ExperimentConfig config, long itemTableSize, Data.Features.FeatureSpace features, IReadOnlyList<RankingTask> tasks) =>
        config.Ranking.Variant == "dlrm"
            ? new DlrmRanker(itemTableSize, features, tasks, config.Model.EmbeddingDim, config.Ranking.HeadHidden)
            : new RankingModel(config.Model, itemTableSize, features, tasks, config.Ranking.Variant == "interleaved", config.Ranking.HeadHidden);

    /// <summary>The tasks, in logit order.</summary>
    public IReadOnlyList<RankingTask> Tasks { get; }

    /// <summary>Whether the model reads interleaved (Φ, a) sequences; otherwise actions are summed into items.</summary>
    public bool Interleaved { get; }

    /// <summary>Logits [P, T] at flat positions (row · width + column) of a batch, for the items predicted there.</summary>
    public abstract Tensor Logits(SequenceBatch batch, long[] flatPositions, long[] items);

    /// <summary>Logits [m, T] for a history's candidates.</summary>
    public abstract Tensor ScoreCandidates(TokenWindow history, long[] candidates, long requestTime, Device device, int microBatch = 128);

    /// <summary>The last linear layer, whose bias gives each task's logit before any evidence.</summary>
    protected abstract TorchSharp.Modules.Linear OutputLayer { get; }

    /// <summary>Σ over tasks of BCE-with-logits (binary) or MSE (regression), each averaged over positions.</summary>
    public static Tensor Loss(Tensor logits, Tensor labels, IReadOnlyList<RankingTask> tasks)
    {
        using var scope = NewDisposeScope();
        Tensor? total = null;
        for (int t = 0; t < tasks.Count; t++)
        {
            var x = logits[.., t];
            var y = labels[.., t];
            var l = tasks[t].IsRegression ? nn.functional.mse_loss(x, y) : nn.functional.binary_cross_entropy_with_logits(x, y);
            total = total is null ? l : total.Plus(l);
        }
        return total!.MoveToOuterDisposeScope();
    }
}
