using GenRec.Data;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Model;

/// <summary>
/// M-FALCON (the paper's section 3.4): score m candidates for one history in micro-batches of b. The history is
/// encoded once and every layer's keys and values are cached; each candidate then sits at the position right after
/// the history, attends to the whole history and to itself, never to other candidates, so its output equals what a
/// full forward pass over history + that one candidate gives (tested to 1e-4). Cost: one history pass plus m
/// candidate rows, instead of m passes over n + 1 tokens.
/// </summary>
public sealed class MFalcon
{
    private readonly HstuEncoder _model;
    private readonly Device _device;

    /// <summary>Serves <paramref name="model"/> (switched to eval mode: no dropout).</summary>
    public MFalcon(HstuEncoder model, Device device)
    {
        _model = model;
        _device = device;
        model.eval();
    }

    /// <summary>Encodes a history for requests at <paramref name="requestTime"/> and caches every layer's keys and values.</summary>
    public HistoryCache Encode(TokenWindow history, long requestTime)
    {
        int n = history.History.Length;
        if (n == 0) throw new ArgumentException("the history is empty.", nameof(history));
        if (n + 1 > _model.Config.PaddedLength) throw new ArgumentException($"history of {n} tokens plus a candidate exceeds the model's padded length {_model.Config.PaddedLength}.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var batch = SequenceBatch.Create([history.History], [history.HistoryTimestamps], [requestTime], _device, [history.HistoryKinds], [history.HistoryActions]);
        var valid = ones(1, n, 1, device: _device);
        var positions = arange(Scalars.Of((long)n), device: _device);
        var x = _model.InputEmbeddings(batch, positions);
        var buckets = TimeBuckets.Compute(batch.QueryTimestamps, batch.Timestamps, _model.Config.TimeBuckets);
        var keys = new Tensor[_model.Layers.Count];
        var values = new Tensor[_model.Layers.Count];
        for (int l = 0; l < keys.Length; l++)
        {
            var rab = _model.Biases[l].ForPositions(positions, positions, buckets);
            x = _model.Layers[l].Forward(x, rab, valid, null, out keys[l], out values[l]);
            keys[l] = keys[l].MoveToOuterDisposeScope();
            values[l] = values[l].MoveToOuterDisposeScope();
        }
        var times = batch.Timestamps.clone().MoveToOuterDisposeScope();
        return new HistoryCache(keys, values, times, n, requestTime);
    }

    /// <summary>Outputs [m, D] at each candidate (L2-normalised unless <paramref name="normalize"/> is false), from the cache, in micro-batches of <paramref name="microBatch"/>.</summary>
    public Tensor Score(HistoryCache cache, long[] candidates, int microBatch, bool normalize = true)
    {
        if (microBatch < 1) throw new ArgumentOutOfRangeException(nameof(microBatch), microBatch, "micro-batch size must be at least 1.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int n = cache.Length;
        var queryPos = tensor(new long[] { n }, device: _device);
        var historyPos = arange(Scalars.Of((long)n), device: _device);
        var historyBuckets = TimeBuckets.Compute(tensor(new[] { cache.RequestTime }, device: _device).view(1, 1), cache.Timestamps, _model.Config.TimeBuckets); // [1, 1, n]
        var selfBuckets = zeros(1, 1, 1, dtype: ScalarType.Int64, device: _device);
        var rabHistory = _model.Biases.Select(b => b.ForPositions(queryPos, historyPos, historyBuckets).unsqueeze(1)).ToArray(); // [1, 1, 1, n]
        var rabSelf = _model.Biases.Select(b => b.ForPositions(queryPos, queryPos, selfBuckets).unsqueeze(1)).ToArray();       // [1, 1, 1, 1]
        var outputs = new List<Tensor>();
        for (int start = 0; start < candidates.Length; start += microBatch)
        {
            var chunk = candidates.AsSpan(start, Math.Min(microBatch, candidates.Length - start)).ToArray();
            using var cb = SequenceBatch.Create(chunk.Select(c => new[] { c }).ToList(), chunk.Select(_ => new[] { cache.RequestTime }).ToList(), null, _device);
            var x = _model.InputEmbeddings(cb, queryPos); // [b, 1, D]
            for (int l = 0; l < _model.Layers.Count; l++)
                x = _model.Layers[l].ForwardCandidates(x, cache.Keys[l], cache.Values[l], rabHistory[l], rabSelf[l]);
            outputs.Add(normalize ? SequenceEncoder.Normalize(x.squeeze(1)) : x.squeeze(1));
        }
        return cat(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same scores by micro-batching without the cache: each micro-batch runs the full forward over history +
    /// b candidates with the M-FALCON attention pattern (the history recomputed every time). For benchmarks and tests.
    /// </summary>
    public Tensor ScoreWithoutCache(TokenWindow history, long requestTime, long[] candidates, int microBatch)
    {
        if (microBatch < 1) throw new ArgumentOutOfRangeException(nameof(microBatch), microBatch, "micro-batch size must be at least 1.");
        int n = history.History.Length;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        for (int start = 0; start < candidates.Length; start += microBatch)
        {
            int b = Math.Min(microBatch, candidates.Length - start);
            int len = n + b;
            if (len > _model.Config.PaddedLength) throw new ArgumentException($"history {n} + micro-batch {b} exceeds the model's padded length {_model.Config.PaddedLength}.");
            var ids = history.History.Concat(candidates.Skip(start).Take(b)).ToArray();
            var times = history.HistoryTimestamps.Concat(Enumerable.Repeat(requestTime, b)).ToArray();
            byte[]? kinds = history.HistoryKinds?.Concat(new byte[b]).ToArray();
            int[]? actions = history.HistoryActions?.Concat(new int[b]).ToArray();
            using var batch = SequenceBatch.Create([ids], [times], [requestTime], _device, [kinds], [actions]);
            var positions = tensor(Enumerable.Range(0, len).Select(i => (long)Math.Min(i, n)).ToArray(), device: _device);
            var allowed = CandidateMask(n, b, _device);
            var valid = ones(1, len, 1, device: _device);
            var x = _model.InputEmbeddings(batch, positions);
            var buckets = TimeBuckets.Compute(batch.QueryTimestamps, batch.Timestamps, _model.Config.TimeBuckets);
            for (int l = 0; l < _model.Layers.Count; l++)
            {
                var rab = _model.Biases[l].ForPositions(positions, positions, buckets);
                x = _model.Layers[l].Forward(x, rab, valid, allowed, out var k, out var v);
            }
            outputs.Add(SequenceEncoder.Normalize(x[0, TensorIndex.Slice(n, len)]));
        }
        return cat(outputs, 0).MoveToOuterDisposeScope();
    }

    /// <summary>The M-FALCON attention pattern over n history tokens and b candidates: causal over the history; a candidate sees the history and itself.</summary>
    public static Tensor CandidateMask(int n, int b, Device device)
    {
        using var scope = NewDisposeScope();
        int len = n + b;
        var mask = ones(len, len, dtype: ScalarType.Bool, device: device).tril();
        if (b > 1)
        {
            // Candidates must not see the candidates before them: clear the candidate block below its diagonal.
            var block = ones(b, b, dtype: ScalarType.Bool, device: device).tril(-1);
            mask[TensorIndex.Slice(n, len), TensorIndex.Slice(n, len)].masked_fill_(block, Scalars.Of(0L));
        }
        return mask.MoveToOuterDisposeScope();
    }
}
