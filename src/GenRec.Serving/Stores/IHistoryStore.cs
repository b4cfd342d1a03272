namespace GenRec.Serving.Stores;

/// <summary>
/// Where the service keeps the events users generate after training: the source of truth every replica reads,
/// so that no server process holds state another would need.
/// </summary>
public interface IHistoryStore : IAsyncDisposable
{
    /// <summary>A short description for logs and /healthz (never a password).</summary>
    string Describe { get; }

    /// <summary>
    /// Appends events to a user's history, all or none, and returns how many were stored: events whose
    /// <see cref="StoredEvent.Id"/> the user's history already holds (a retry) are left out.
    /// </summary>
    Task<int> AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default);

    /// <summary>The user's latest <paramref name="max"/> events, oldest first (time, then arrival order).</summary>
    Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default);

    /// <summary>
    /// The log of item events across all users in arrival order, for incremental training: up to
    /// <paramref name="max"/> events whose sequence number is above <paramref name="after"/>. Sequence numbers rise
    /// with every stored event and are never reused, so a trainer's watermark is one of them. A features-only event may
    /// come back with an empty item (it trains nothing); page on with the last sequence number returned.
    /// </summary>
    Task<IReadOnlyList<GenRec.Data.LoggedEvent>> ReadLogAsync(long after, int max, CancellationToken cancel = default);

    /// <summary>Checks the store answers (for /healthz).</summary>
    Task<bool> PingAsync(CancellationToken cancel = default);
}
