using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Native;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// The DLRM-style baseline ranker, as production DLRMs use engagement history: one pooled feature per action
/// (the mean embedding of the items the user gave that action, before the candidate), the candidate's embedding,
/// and an MLP over [pooled per action, candidate, pooled ⊙ candidate per action] giving one logit per task.
/// No attention, so the candidate meets the history only in the MLP — the contrast the paper draws.
/// </summary>
public sealed class DlrmRanker : Ranker
{
    private readonly Embedding _items;
    private readonly Sequential _mlp;
    private readonly Linear _output;
    private readonly int _numActions;

    /// <inheritdoc />
    protected override Linear OutputLayer => _output;

    /// <summary>A ranker with embeddings of width <paramref name="dim"/> and an MLP of <paramref name="hidden"/> units.</summary>
    public DlrmRanker(long itemTableSize, FeatureSpace features, IReadOnlyList<RankingTask> tasks, int dim, int hidden = 128)
        : base(nameof(DlrmRanker), tasks, interleaved: false)
    {
        if (features.Actions.Count == 0) throw new ArgumentException("ranking needs actions in the feature space.");
        _numActions = features.Actions.Count;
        _items = nn.Embedding(itemTableSize, dim, padding_idx: 0);
        _output = nn.Linear(hidden, tasks.Count);
        _mlp = nn.Sequential(nn.Linear((2 * _numActions + 1) * dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), _output);
        using (no_grad())
        {
            _items.weight!.normal_().mul_(Scalars.Of(0.05));
            _items.weight![0].zero_();
        }
        RegisterComponents();
    }

    /// <summary>Per action a, the mean embedding of the items given action a at or before each position: [B, L, A, D].</summary>
    private Tensor PrefixMeans(SequenceBatch batch)
    {
        var zero = Scalars.Of(0L);
        if (batch.Actions is null) throw new ArgumentException("the DLRM baseline reads actions summed into item tokens (the summed ranking sequence).");
        var isItem = batch.Kinds is null ? batch.ValidMask() : batch.Kinds.eq(zero).logical_and(batch.ValidMask());
        var e = _items.forward(batch.Ids.masked_fill(isItem.logical_not(), zero));                  // [B, L, D]
        var actions = batch.Actions.masked_fill(isItem.logical_not(), zero);
        var oneHot = nn.functional.one_hot(actions, _numActions + 1)[.., .., 1..].to(e.dtype);    // [B, L, A]
        var sums = (e.unsqueeze(2) * oneHot.unsqueeze(-1)).cumsum(1);                               // [B, L, A, D]
        var counts = oneHot.cumsum(1).clamp_min(Scalars.Of(1.0)).unsqueeze(-1);
        return sums / counts;
    }

    private Tensor Mlp(Tensor pooled, Tensor candidates)
    {
        // pooled [P, A, D], candidates [P, D] → [P, (2A + 1)·D]
        var p = pooled.shape[0];
        var products = pooled * candidates.unsqueeze(1);
        return _mlp.forward(cat([pooled.reshape(p, -1), candidates, products.reshape(p, -1)], -1));
    }

    /// <inheritdoc />
    public override Tensor Logits(SequenceBatch batch, long[] flatPositions, long[] items)
    {
        using var scope = NewDisposeScope();
        var pooled = PrefixMeans(batch);
        var at = pooled.view(-1, pooled.shape[2], pooled.shape[3]).index_select(0, tensor(flatPositions, device: pooled.device));
        return Mlp(at, _items.forward(tensor(items, device: pooled.device))).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor ScoreCandidates(TokenWindow history, long[] candidates, long requestTime, Device device, int microBatch = 128)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var batch = SequenceBatch.Create([history.History], [history.HistoryTimestamps], [requestTime], device, [history.HistoryKinds], [history.HistoryActions]);
        var pooled = PrefixMeans(batch)[0, -1].unsqueeze(0).expand(candidates.Length, -1, -1);
        return Mlp(pooled, _items.forward(tensor(candidates, device: device))).MoveToOuterDisposeScope();
    }
}
