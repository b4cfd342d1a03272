namespace GenRec.Serving.Api;

/// <summary>One event in a request: an item and the action on it, feature values, or both; and when.</summary>
public sealed record EventDto
{
    /// <summary>Item id as in the source data; may be left out when the event carries only feature values.</summary>
    public string? Item { get; init; }

    /// <summary>Action value as in the source data (a rating, "buy"); optional.</summary>
    public string? Action { get; init; }

    /// <summary>Feature values by name (the schema's contextual and auxiliary columns), for example {"zip": "10001"}.</summary>
    public Dictionary<string, string>? Features { get; init; }

    /// <summary>Unix seconds.</summary>
    public long? Timestamp { get; init; }

    /// <summary>
    /// The client's id for this event (at most 256 characters), optional: an event whose id the user's history
    /// already holds is not stored again, so a request retried after a timeout or a 503 is stored once.
    /// </summary>
    public string? Id { get; init; }
}
