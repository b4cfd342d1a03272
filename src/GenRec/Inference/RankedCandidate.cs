namespace GenRec.Inference;

/// <summary>One ranked candidate: the item, its place in the list given to the ranker, and every task's
/// score.</summary>
/// <param name="Item">The item's model id.</param>
/// <param name="Given">Its index among the candidates as given (for example its retrieval rank − 1).</param>
/// <param name="Scores">Per-task scores in task order: probabilities for binary tasks, predictions for regression
/// tasks.</param>
public sealed record RankedCandidate(long Item, int Given, double[] Scores);
