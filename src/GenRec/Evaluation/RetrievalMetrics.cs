namespace GenRec.Evaluation;

/// <summary>
/// The paper's retrieval metrics from 1-based ranks of the held-out item: HR@K = 1[rank ≤ K],
/// NDCG@K = 1/log2(rank + 1) if rank ≤ K else 0, MRR = 1/rank, each averaged over users.
/// </summary>
public sealed record RetrievalMetrics
{
    /// <summary>The cut-offs reported (the paper's 10, 50, 200).</summary>
    public static readonly int[] Cutoffs = [10, 50, 200];

    /// <summary>Number of users evaluated.</summary>
    public int Users { get; init; }

    /// <summary>Hit rate at 10, 50, 200.</summary>
    public double Hr10 { get; init; }
    /// <summary>Hit rate at 50.</summary>
    public double Hr50 { get; init; }
    /// <summary>Hit rate at 200.</summary>
    public double Hr200 { get; init; }
    /// <summary>NDCG at 10.</summary>
    public double Ndcg10 { get; init; }
    /// <summary>NDCG at 50.</summary>
    public double Ndcg50 { get; init; }
    /// <summary>NDCG at 200.</summary>
    public double Ndcg200 { get; init; }
    /// <summary>Mean reciprocal rank over the full corpus.</summary>
    public double Mrr { get; init; }

    /// <summary>HR@K for one rank.</summary>
    public static double HitRate(long rank, int k) => rank <= k ? 1.0 : 0.0;

    /// <summary>NDCG@K for one rank (one relevant item, so IDCG = 1).</summary>
    public static double Ndcg(long rank, int k) => rank <= k ? 1.0 / Math.Log2(rank + 1) : 0.0;

    /// <summary>Averages the per-user metrics of the given 1-based ranks.</summary>
    public static RetrievalMetrics FromRanks(IReadOnlyCollection<long> ranks)
    {
        if (ranks.Count == 0) throw new ArgumentException("no ranks to average: nothing was evaluated.", nameof(ranks));
        if (ranks.Any(r => r < 1)) throw new ArgumentException("ranks are 1-based.", nameof(ranks));
        double n = ranks.Count;
        return new RetrievalMetrics
        {
            Users = ranks.Count,
            Hr10 = ranks.Sum(r => HitRate(r, 10)) / n,
            Hr50 = ranks.Sum(r => HitRate(r, 50)) / n,
            Hr200 = ranks.Sum(r => HitRate(r, 200)) / n,
            Ndcg10 = ranks.Sum(r => Ndcg(r, 10)) / n,
            Ndcg50 = ranks.Sum(r => Ndcg(r, 50)) / n,
            Ndcg200 = ranks.Sum(r => Ndcg(r, 200)) / n,
            Mrr = ranks.Sum(r => 1.0 / r) / n,
        };
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"HR@10 {Hr10:F4}  NDCG@10 {Ndcg10:F4}  HR@50 {Hr50:F4}  NDCG@50 {Ndcg50:F4}  HR@200 {Hr200:F4}  NDCG@200 {Ndcg200:F4}  MRR {Mrr:F4}  ({Users} users)";
}
