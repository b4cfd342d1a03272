namespace GenRec.Serving;

/// <summary>What <c>genrec serve</c> loads and the limits it enforces on requests.</summary>
public sealed record ServingOptions
{
    /// <summary>The prepared folder (genrec prepare) the models were trained on.</summary>
    public required string Data { get; init; }

    /// <summary>The retrieval checkpoint (genrec train).</summary>
    public required string Retrieval { get; init; }

    /// <summary>
    /// A publish folder (<c>genrec train … --publish DIR</c>) to serve the newest model of, checked every
    /// <see cref="WatchIntervalSeconds"/>; null serves <see cref="Retrieval"/> only.
    /// </summary>
    public string? Watch { get; init; }

    /// <summary>Seconds between looks at <see cref="Watch"/>.</summary>
    public double WatchIntervalSeconds { get; init; } = 2;

    /// <summary>The ranking checkpoint (genrec rank-train --out), optional.</summary>
    public string? Ranking { get; init; }

    /// <summary>The history store: <c>sqlite:PATH</c> (default <c>sqlite:genrec-events.db</c>).</summary>
    public string Store { get; init; } = "sqlite:genrec-events.db";

    /// <summary>Addresses to listen on; loopback by default.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>Item search: <c>exact</c> (SIMD over every item, the default) or <c>hnsw</c> (approximate, for large catalogs).</summary>
    public string Index { get; init; } = "exact";

    /// <summary>cpu or cuda[:N].</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Largest request body in bytes (413 beyond).</summary>
    public long MaxBodyBytes { get; init; } = 1 << 20;

    /// <summary>Most events in one /v1/events call or inline history.</summary>
    public int MaxEvents { get; init; } = 1000;

    /// <summary>Most candidates in one /v1/rank call.</summary>
    public int MaxCandidates { get; init; } = 1000;

    /// <summary>Largest k (and retrieval depth of /v1/recommend).</summary>
    public int MaxK { get; init; } = 1000;

    /// <summary>Requests served at once; more wait (up to <see cref="MaxQueuedRequests"/>), beyond that 503.</summary>
    public int MaxConcurrentRequests { get; init; } = 64;

    /// <summary>Requests allowed to wait for a slot; beyond that they are refused with 503 at once.</summary>
    public int MaxQueuedRequests { get; init; } = 256;
}
