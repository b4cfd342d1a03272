using GenRec.Data;
using GenRec.Data.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// Generative ranking: an HSTU encoder over the ranking sequence (interleaved items and actions, or the summed
/// variant) and a <see cref="MultiTaskHead"/> read at item positions. Binary tasks train with BCE on logits,
/// regression tasks with MSE.
/// </summary>
public sealed class RankingModel : nn.Module
{
    private readonly HstuEncoder _encoder;
    private readonly MultiTaskHead _head;

    /// <summary>Creates the encoder (with the feature space's tables) and the head.</summary>
    public RankingModel(ModelConfig config, long itemTableSize, FeatureSpace features, IReadOnlyList<RankingTask> tasks, bool interleaved, int headHidden = 64)
        : base(nameof(RankingModel))
    {
        if (features.Actions.Count == 0) throw new ArgumentException("ranking needs actions in the feature space.");
        Tasks = tasks;
        Interleaved = interleaved;
        _encoder = new HstuEncoder(config, itemTableSize, features);
        _head = new MultiTaskHead(config.EmbeddingDim, headHidden, tasks.Count);
        RegisterComponents();
    }

    /// <summary>The encoder.</summary>
    public HstuEncoder Encoder => _encoder;

    /// <summary>The tasks, in logit order.</summary>
    public IReadOnlyList<RankingTask> Tasks { get; }

    /// <summary>Interleaved (Φ, a tokens) or summed (actions added to items).</summary>
    public bool Interleaved { get; }

    /// <summary>Logits [P, T] at flat positions (row · width + column) of a batch, for the items predicted there.</summary>
    public Tensor Logits(SequenceBatch batch, long[] flatPositions, long[] items)
    {
        using var scope = NewDisposeScope();
        var h = _encoder.Hidden(batch);
        var d = h.shape[2];
        var at = h.view(-1, d).index_select(0, tensor(flatPositions, device: h.device));
        var e = _encoder.ItemVectors(tensor(items, device: h.device));
        return _head.forward(at, e).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [m, T] of a history's candidates: M-FALCON when interleaved, the last output otherwise.</summary>
    public Tensor ScoreCandidates(EvalExample history, long[] candidates, long requestTime, Device device, int microBatch = 128)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor h;
        if (Interleaved)
        {
            var falcon = new Inference.MFalcon(_encoder, device);
            using var cache = falcon.Encode(history, requestTime);
            h = falcon.Score(cache, candidates, microBatch, normalize: false);
        }
        else
        {
            using var batch = SequenceBatch.Create([history.History], [history.HistoryTimestamps], [requestTime], device, [history.HistoryKinds], [history.HistoryActions]);
            h = _encoder.Hidden(batch)[0, -1].unsqueeze(0).expand(candidates.Length, -1);
        }
        var e = _encoder.ItemVectors(tensor(candidates, device: device));
        return _head.forward(h, e).MoveToOuterDisposeScope();
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
