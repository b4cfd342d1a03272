using GenRec.Data;
using GenRec.Model;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Evaluation;

/// <summary>
/// Full-corpus retrieval evaluation, as in the paper's tables: the user embedding at the last history position is
/// scored against every item of the corpus; items of the (truncated) history are excluded (except the target itself,
/// should the user have engaged with it before); the rank of the target is 1 + the number of items scoring higher.
/// </summary>
public static class Evaluator
{
    /// <summary>Largest [batch, L, L] attention tensor evaluation builds, in elements (256 MiB of float32).</summary>
    public const long AttentionBudget = 64L << 20;

    /// <summary>
    /// Users per evaluation batch: <paramref name="batchSize"/>, lowered so that one [batch, L, L] attention tensor
    /// stays within <see cref="AttentionBudget"/> for histories of <paramref name="longest"/> tokens (at length 2,048,
    /// 256 users would need 4 GiB per tensor).
    /// </summary>
    public static int BatchFor(int batchSize, int longest) =>
        (int)Math.Clamp(AttentionBudget / Math.Max(1L, (long)longest * longest), 1, Math.Max(1, batchSize));

    /// <summary>1-based rank of the target for every example.</summary>
    public static long[] Ranks(SequenceEncoder model, IReadOnlyList<TokenWindow> examples, long[] corpus, Device device, int batchSize = 256)
    {
        var ranks = new long[examples.Count];
        if (examples.Count > 0) batchSize = BatchFor(batchSize, examples.Max(e => e.History.Length));
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var corpusIds = tensor(corpus, device: device);
            // Map raw id → column in the corpus, for masking history items.
            var column = new Dictionary<long, int>(corpus.Length);
            for (int c = 0; c < corpus.Length; c++) column[corpus[c]] = c;
            using var itemMatrix = model.NormalizedItems(corpusIds);
            for (int start = 0; start < examples.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var chunk = examples.Skip(start).Take(batchSize).ToList();
                using var batch = SequenceBatch.Create(chunk.Select(e => e.History).ToList(), chunk.Select(e => e.HistoryTimestamps).ToList(),
                    chunk.Select(e => e.TargetTimestamp).ToList(), device, chunk.Select(e => e.HistoryKinds).ToList(), chunk.Select(e => e.HistoryActions).ToList());
                var users = SequenceEncoder.LastPosition(model.forward(batch), batch.Lengths);
                var scores = users.matmul(itemMatrix.t());                 // [B, C]
                var targetCols = new long[chunk.Count];
                var maskRows = new List<long>();
                var maskCols = new List<long>();
                for (int r = 0; r < chunk.Count; r++)
                {
                    if (!column.TryGetValue(chunk[r].Target, out int tc))
                        throw new ArgumentException($"user {chunk[r].UserId}: target item {chunk[r].Target} is not in the corpus.");
                    targetCols[r] = tc;
                    foreach (var h in chunk[r].HistoryItems)
                        if (h != chunk[r].Target && column.TryGetValue(h, out int hc)) { maskRows.Add(r); maskCols.Add(hc); }
                }
                var tcol = tensor(targetCols, device: device).unsqueeze(1);
                var targetScore = scores.gather(1, tcol);
                if (maskRows.Count > 0)
                    scores.index_put_(Scalars.Of(double.NegativeInfinity), tensor(maskRows.ToArray(), device: device), tensor(maskCols.ToArray(), device: device));
                var higher = scores.gt(targetScore).sum(1).cpu().data<long>().ToArray();
                for (int r = 0; r < chunk.Count; r++) ranks[start + r] = higher[r] + 1;
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return ranks;
    }

    /// <summary>Evaluates and averages (see <see cref="RetrievalMetrics"/>).</summary>
    public static RetrievalMetrics Evaluate(SequenceEncoder model, IReadOnlyList<TokenWindow> examples, long[] corpus, Device device, int batchSize = 256) =>
        RetrievalMetrics.FromRanks(Ranks(model, examples, corpus, device, batchSize));
}
