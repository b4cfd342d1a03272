namespace GenRec.Serving.Stores;

/// <summary>
/// One event appended to a user's history through the service: an item with the action on it, feature values
/// (a contextual feature that changed, an auxiliary observation such as a followed creator), or both. Items,
/// actions and values are kept as the source data spells them (not as model ids), so a history outlives a model
/// reload or retraining.
/// </summary>
/// <param name="Item">The item's id as in the source data, or null for a features-only event.</param>
/// <param name="Action">The action value as in the source data (a rating, "buy"), or null.</param>
/// <param name="Timestamp">Unix seconds.</param>
/// <param name="Features">Feature values by feature name (the schema's contextual and auxiliary columns), or null.</param>
/// <param name="Id">
/// The client's id for the event, or null: an append whose id the user's history already holds is not stored again,
/// so a retried request is stored once.
/// </param>
public sealed record StoredEvent(string? Item, string? Action, long Timestamp,
    IReadOnlyDictionary<string, string>? Features = null, string? Id = null);
