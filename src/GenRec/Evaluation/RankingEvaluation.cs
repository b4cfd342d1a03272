namespace GenRec.Evaluation;

/// <summary>Ranking results on the test users: metrics per binary task and MSE per regression task.</summary>
/// <param name="Binary">AUC, GAUC, NE, log loss per binary task.</param>
/// <param name="Mse">Mean squared error per regression task.</param>
/// <param name="Users">Test users scored.</param>
public sealed record RankingEvaluation(IReadOnlyDictionary<string, RankingMetrics> Binary, IReadOnlyDictionary<string, double> Mse, int Users);
