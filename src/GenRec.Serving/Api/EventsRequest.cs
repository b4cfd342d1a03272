namespace GenRec.Serving.Api;

/// <summary>Body of <c>POST /v1/events</c>.</summary>
public sealed record EventsRequest
{
    /// <summary>The user.</summary>
    public string? User { get; init; }

    /// <summary>Events to append, any order.</summary>
    public List<EventDto>? Events { get; init; }
}
