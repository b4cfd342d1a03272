namespace GenRec.Evaluation;

/// <summary>
/// Ranking (action prediction) metrics for one binary task: AUC, per-user GAUC, log loss and normalised entropy
/// (NE: log loss divided by the entropy of the base rate, so 1.0 is "no better than predicting the average").
/// Pure functions of labels and predicted probabilities, checked against hand-computed values in the tests.
/// </summary>
public sealed record RankingMetrics
{
    /// <summary>Examples scored.</summary>
    public int Count { get; init; }

    /// <summary>Fraction of positive labels.</summary>
    public double BaseRate { get; init; }

    /// <summary>Area under the ROC curve (ties count one half); NaN when only one class occurs.</summary>
    public double Auc { get; init; }

    /// <summary>AUC per user, averaged with weights = the user's examples, over users with both classes.</summary>
    public double Gauc { get; init; }

    /// <summary>Mean binary cross-entropy in nats.</summary>
    public double LogLoss { get; init; }

    /// <summary>Normalised entropy: log loss / entropy of the base rate.</summary>
    public double Ne { get; init; }

    /// <summary>Probabilities are clipped to [ε, 1 − ε] for the log loss.</summary>
    public const double Epsilon = 1e-7;

    /// <summary>Computes every metric; <paramref name="users"/> (same length) groups examples for GAUC, or null to skip it.</summary>
    public static RankingMetrics Compute(IReadOnlyList<bool> labels, IReadOnlyList<double> probabilities, IReadOnlyList<long>? users = null)
    {
        if (labels.Count != probabilities.Count) throw new ArgumentException($"{labels.Count} labels but {probabilities.Count} predictions.");
        if (users is not null && users.Count != labels.Count) throw new ArgumentException($"{labels.Count} labels but {users.Count} user ids.");
        int n = labels.Count;
        double rate = n == 0 ? double.NaN : labels.Count(l => l) / (double)n;
        double ll = CrossEntropy(labels, probabilities);
        return new RankingMetrics
        {
            Count = n,
            BaseRate = rate,
            Auc = AreaUnderCurve(labels, probabilities),
            Gauc = users is null ? double.NaN : GroupedAuc(labels, probabilities, users),
            LogLoss = ll,
            Ne = ll / Entropy(rate),
        };
    }

    /// <summary>AUC by the rank-sum (Mann–Whitney) formula with average ranks for ties.</summary>
    public static double AreaUnderCurve(IReadOnlyList<bool> labels, IReadOnlyList<double> scores)
    {
        int n = labels.Count;
        long pos = labels.Count(l => l), neg = n - pos;
        if (pos == 0 || neg == 0) return double.NaN;
        var order = Enumerable.Range(0, n).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) j++;
            double avgRank = (i + j) / 2.0 + 1; // 1-based average rank of the tie group
            for (int k = i; k <= j; k++) if (labels[order[k]]) rankSum += avgRank;
            i = j + 1;
        }
        return (rankSum - pos * (pos + 1) / 2.0) / (pos * (double)neg);
    }

    /// <summary>Per-user AUC weighted by the user's example count, over users that have both classes; NaN if none has.</summary>
    public static double GroupedAuc(IReadOnlyList<bool> labels, IReadOnlyList<double> scores, IReadOnlyList<long> users)
    {
        double sum = 0, weight = 0;
        foreach (var g in Enumerable.Range(0, labels.Count).GroupBy(i => users[i]))
        {
            var idx = g.ToArray();
            double auc = AreaUnderCurve(idx.Select(i => labels[i]).ToArray(), idx.Select(i => scores[i]).ToArray());
            if (double.IsNaN(auc)) continue;
            sum += auc * idx.Length;
            weight += idx.Length;
        }
        return weight == 0 ? double.NaN : sum / weight;
    }

    /// <summary>Mean binary cross-entropy (natural log), probabilities clipped to [ε, 1 − ε].</summary>
    public static double CrossEntropy(IReadOnlyList<bool> labels, IReadOnlyList<double> probabilities)
    {
        if (labels.Count == 0) return double.NaN;
        double s = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            double p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            s -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return s / labels.Count;
    }

    /// <summary>Entropy of a Bernoulli(p) in nats.</summary>
    public static double Entropy(double p) => p <= 0 || p >= 1 ? double.NaN : -(p * Math.Log(p) + (1 - p) * Math.Log(1 - p));

    /// <summary>Mean squared error of a regression task.</summary>
    public static double Mse(IReadOnlyList<double> targets, IReadOnlyList<double> predictions)
    {
        if (targets.Count != predictions.Count) throw new ArgumentException($"{targets.Count} targets but {predictions.Count} predictions.");
        if (targets.Count == 0) return double.NaN;
        double s = 0;
        for (int i = 0; i < targets.Count; i++) s += (targets[i] - predictions[i]) * (targets[i] - predictions[i]);
        return s / targets.Count;
    }
}
