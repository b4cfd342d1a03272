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
    public abstract Tensor ScoreCandidates(EvalExample history, long[] candidates, long requestTime, Device device, int microBatch = 128);

    /// <summary>The last linear layer, whose bias gives each task's logit before any evidence.</summary>
    protected abstract TorchSharp.Modules.Linear OutputLayer { get; }

    /// <summary>
    /// Sets the output bias to each task's base rate in the training labels (log-odds for binary tasks, the mean
    /// for regression), so training starts from a calibrated guess instead of p = 0.5 and a rating of 0. Rare
    /// actions (buy: 3 %) otherwise spend their first epochs learning the base rate, and NE starts far above 1.
    /// </summary>
    public void StartAtBaseRates(IReadOnlyList<double> labelMeans)
    {
        if (labelMeans.Count != Tasks.Count) throw new ArgumentException($"{labelMeans.Count} label means for {Tasks.Count} tasks.", nameof(labelMeans));
        var bias = new float[Tasks.Count];
        for (int t = 0; t < bias.Length; t++)
        {
            double m = labelMeans[t];
            if (!Tasks[t].IsRegression) m = Math.Clamp(m, 1e-4, 1 - 1e-4);
            bias[t] = (float)(Tasks[t].IsRegression ? m : Math.Log(m / (1 - m)));
        }
        using var _ = no_grad();
        using var b = tensor(bias, device: OutputLayer.bias!.device);
        OutputLayer.bias!.copy_(b);
    }

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
