namespace GenRec.Serving.Api;

/// <summary>Body of <c>POST /v1/retrieve</c>, <c>/v1/rank</c> and <c>/v1/recommend</c>: a user, or a history given inline.</summary>
public sealed record UserRequest
{
    /// <summary>The user (their training history plus appended events).</summary>
    public string? User { get; init; }

    /// <summary>A history instead of a user: events, any order.</summary>
    public List<EventDto>? History { get; init; }

    /// <summary>How many items to return (retrieve, recommend).</summary>
    public int? K { get; init; }

    /// <summary>Retrieval depth before ranking (recommend); default 100.</summary>
    public int? Retrieve { get; init; }

    /// <summary>Return items the user has already seen (retrieve, recommend); default false.</summary>
    public bool? IncludeSeen { get; init; }

    /// <summary>The task to order by (rank, recommend); default the first binary task.</summary>
    public string? SortBy { get; init; }

    /// <summary>Candidate item ids to score (rank).</summary>
    public List<string>? Candidates { get; init; }
}
