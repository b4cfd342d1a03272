using GenRec.Data;

namespace GenRec.Serving;

/// <summary>
/// A user's history as the models read it: the training log's latest window merged with the events appended
/// through the service, plus what could not be used.
/// </summary>
/// <param name="User">The user's key.</param>
/// <param name="Tokens">The model input (contextual tokens first, then items oldest first); null for a user with no usable history (cold start).</param>
/// <param name="Seen">Model ids of the items in the history (excluded from retrieval unless asked).</param>
/// <param name="UnknownItems">Appended items the dataset does not know (kept in the store, skipped by the models).</param>
public sealed record UserHistory(string User, TokenWindow? Tokens, IReadOnlySet<long> Seen, IReadOnlyList<string> UnknownItems)
{
    /// <summary>Appended feature values the dataset does not know, as name=value (skipped by the models).</summary>
    public IReadOnlyList<string> UnknownFeatures { get; init; } = [];

    /// <summary>True when there is nothing to encode and answers fall back to popularity.</summary>
    public bool IsColdStart => Tokens is null;
}
