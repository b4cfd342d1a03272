namespace GenRec.Serving.Stores;

/// <summary>
/// One event appended to a user's history through the service. Items and actions are kept as the source data
/// spells them (not as model ids), so a history outlives a model reload or retraining.
/// </summary>
/// <param name="Item">The item's id as in the source data.</param>
/// <param name="Action">The action value as in the source data (a rating, "buy"), or null.</param>
/// <param name="Timestamp">Unix seconds.</param>
public sealed record StoredEvent(string Item, string? Action, long Timestamp);
