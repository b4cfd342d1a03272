namespace GenRec.Serving.Api;

/// <summary>One ranked candidate in a response.</summary>
/// <param name="Rank">1 = best.</param>
/// <param name="Item">Item id as in the source data.</param>
/// <param name="Title">Display title.</param>
/// <param name="Scores">Probability per binary task, prediction per regression task; null for a cold start.</param>
/// <param name="RetrievalScore">The retrieval score, when the candidate came from retrieval.</param>
public sealed record RankedItem(int Rank, string Item, string Title, Dictionary<string, double>? Scores, float? RetrievalScore);
