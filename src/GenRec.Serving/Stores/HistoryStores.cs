namespace GenRec.Serving.Stores;

/// <summary>Opens the store a <c>--store</c> value names.</summary>
public static class HistoryStores
{
    /// <summary>
    /// <c>sqlite:PATH</c> (or a path ending in .db): the embedded SQLite store; <c>redis:HOST:PORT</c>: Redis, shared by
    /// several server processes. Anything else is refused with the forms that are accepted. A call the store cannot
    /// answer within <paramref name="timeout"/> (default 1 s: SQLite locked by another process, Redis hung) fails with
    /// <see cref="StoreUnavailableException"/>, the service's 503.
    /// </summary>
    public static async Task<IHistoryStore> OpenAsync(string spec, CancellationToken cancel = default,
        TimeSpan? timeout = null)
    {
        if (spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase)) return await SqliteHistoryStore.OpenAsync(spec["sqlite:".Length..], cancel, timeout);
        if (spec.StartsWith("redis:", StringComparison.OrdinalIgnoreCase)) return await RedisHistoryStore.ConnectAsync(spec["redis:".Length..], timeout);
        if (spec.EndsWith(".db", StringComparison.OrdinalIgnoreCase)) return await SqliteHistoryStore.OpenAsync(spec, cancel, timeout);
        throw new ArgumentException($"--store {spec}: expected sqlite:PATH or redis:HOST:PORT.");
    }
}
