namespace GenRec.Serving.Api;

/// <summary>One event in a request: an item, the action on it and when.</summary>
public sealed record EventDto
{
    /// <summary>Item id as in the source data.</summary>
    public string? Item { get; init; }

    /// <summary>Action value as in the source data (a rating, "buy"); optional.</summary>
    public string? Action { get; init; }

    /// <summary>Unix seconds.</summary>
    public long? Timestamp { get; init; }
}
