namespace GenRec.Serving.Stores;

/// <summary>Opens the store a <c>--store</c> value names.</summary>
public static class HistoryStores
{
    /// <summary>
    /// <c>sqlite:PATH</c> (or a path ending in .db): the embedded SQLite store; <c>redis:HOST:PORT</c>: Redis, shared by
    /// several server processes. Anything else is refused with the forms that are accepted.
    /// </summary>
    public static async Task<IHistoryStore> OpenAsync(string spec, CancellationToken cancel = default,
        TimeSpan? busyTimeout = null)
    {
        if (spec.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase)) return await SqliteHistoryStore.OpenAsync(spec["sqlite:".Length..], cancel, busyTimeout);
        if (spec.StartsWith("redis:", StringComparison.OrdinalIgnoreCase)) return await RedisHistoryStore.ConnectAsync(spec["redis:".Length..]);
        if (spec.EndsWith(".db", StringComparison.OrdinalIgnoreCase)) return await SqliteHistoryStore.OpenAsync(spec, cancel, busyTimeout);
        throw new ArgumentException($"--store {spec}: expected sqlite:PATH or redis:HOST:PORT.");
    }
}
