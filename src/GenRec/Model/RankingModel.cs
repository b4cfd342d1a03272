using GenRec.Data;
using GenRec.Data.Features;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// Generative ranking: an HSTU encoder over the ranking sequence (interleaved items and actions, or the summed
/// variant) and a <see cref="MultiTaskHead"/> read at item positions. Binary tasks train with BCE on logits,
/// regression tasks with MSE.
/// </summary>
public sealed class RankingModel : Ranker
{
    private readonly HstuEncoder _encoder;
    private readonly MultiTaskHead _head;

    /// <summary>Creates the encoder (with the feature space's tables) and the head.</summary>
    public RankingModel(ModelConfig config, long itemTableSize, FeatureSpace features, IReadOnlyList<RankingTask> tasks, bool interleaved, int headHidden = 64)
        : base(nameof(RankingModel), tasks, interleaved)
    {
        if (features.Actions.Count == 0) throw new ArgumentException("ranking needs actions in the feature space.");
        _encoder = new HstuEncoder(config, itemTableSize, features);
        _head = new MultiTaskHead(config.EmbeddingDim, headHidden, tasks.Count);
        RegisterComponents();
    }

    /// <inheritdoc />
    protected override TorchSharp.Modules.Linear OutputLayer => _head.Output;

    /// <summary>The encoder.</summary>
    public HstuEncoder Encoder => _encoder;

    /// <inheritdoc />
    public override Tensor Logits(SequenceBatch batch, long[] flatPositions, long[] items)
    {
        using var scope = NewDisposeScope();
        var h = _encoder.Hidden(batch);
        var d = h.shape[2];
        var at = h.view(-1, d).index_select(0, tensor(flatPositions, device: h.device));
        var e = _encoder.ItemVectors(tensor(items, device: h.device));
        return _head.forward(at, e).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [m, T] of a history's candidates: M-FALCON when interleaved, the last output otherwise.</summary>
    public override Tensor ScoreCandidates(TokenWindow history, long[] candidates, long requestTime, Device device, int microBatch = 128)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor h;
        if (Interleaved)
        {
            var falcon = new MFalcon(_encoder, device);
            using var cache = falcon.Encode(history, requestTime);
            h = falcon.Score(cache, candidates, microBatch, normalize: false);
        }
        else
        {
            using var batch = SequenceBatch.Create([history.History], [history.HistoryTimestamps], [requestTime], device, [history.HistoryKinds], [history.HistoryActions]);
            h = _encoder.Hidden(batch)[0, -1].unsqueeze(0).expand(candidates.Length, -1);
        }
        return HeadLogits(h, candidates).MoveToOuterDisposeScope();
    }

    /// <summary>Logits [m, T] from the encoder outputs [m, D] at m candidates (for example from the managed M-FALCON, <see cref="Inference.HstuInference.ScoreCandidates"/>).</summary>
    public Tensor HeadLogits(Tensor hidden, long[] candidates)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var e = _encoder.ItemVectors(tensor(candidates, device: hidden.device));
        return _head.forward(hidden, e).MoveToOuterDisposeScope();
    }
}
