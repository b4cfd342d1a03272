using System.Globalization;
using StackExchange.Redis;

namespace GenRec.Serving.Stores;

/// <summary>
/// The networked store, for several server processes sharing user histories: one sorted set per user, scored by
/// timestamp, whose members carry a per-user arrival number (zero-padded, so equal timestamps keep their order)
/// and the event. An append is one ZADD, so it lands whole or not at all. While Redis is unreachable every call
/// fails within about a second with <see cref="StoreUnavailableException"/> (the service answers 503) and the
/// connection is re-established in the background; an event is acknowledged only after Redis accepted it (run Redis
/// with <c>appendonly yes</c> and <c>appendfsync always</c> so that acknowledged events survive a Redis crash).
/// </summary>
public sealed class RedisHistoryStore : IHistoryStore
{
    private readonly ConnectionMultiplexer _redis;
    private readonly string _endpoint;

    private RedisHistoryStore(ConnectionMultiplexer redis, string endpoint)
    {
        _redis = redis;
        _endpoint = endpoint;
    }

    /// <inheritdoc />
    public string Describe => $"redis:{_endpoint}";

    /// <summary>Connects to Redis at <paramref name="configuration"/> (host:port and StackExchange.Redis options).</summary>
    public static async Task<RedisHistoryStore> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        // Fail fast while Redis is away (the client retries, not this process), and reconnect on our own.
        options.SyncTimeout = 1000;
        options.AsyncTimeout = 1000;
        options.ConnectRetry = 1;
        options.ReconnectRetryPolicy = new LinearRetry(250);
        options.BacklogPolicy = BacklogPolicy.FailFast;
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options);
            // Only the first connection must succeed; after it, outages are survived by reconnecting.
            redis.GetDatabase();
            return new RedisHistoryStore(redis, string.Join(",", options.EndPoints.Select(e => e.ToString())));
        }
        catch (RedisConnectionException e)
        {
            throw new IOException($"redis:{configuration}: cannot connect ({e.Message.Split('\n')[0]}).", e);
        }
    }

    private static RedisKey Key(string user) => "genrec:events:" + user;

    private static RedisKey Counter(string user) => "genrec:seq:" + user;

    /// <inheritdoc />
    public Task AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default) =>
        Guard(() => AppendCoreAsync(user, events));

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default) =>
        Guard(() => ReadCoreAsync(user, max));

    private async Task Guard(Func<Task> call) => await Guard(async () => { await call(); return true; });

    private async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try { return await call(); }
        catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException)
        {
            throw new StoreUnavailableException($"history store {Describe} is unavailable ({e.GetType().Name}: {e.Message.Split('\n')[0]}); retry later.", e);
        }
    }

    private async Task AppendCoreAsync(string user, IReadOnlyList<StoredEvent> events)
    {
        if (events.Count == 0) return;
        var db = _redis.GetDatabase();
        long last = await db.StringIncrementAsync(Counter(user), events.Count);
        long first = last - events.Count + 1;
        var entries = new SortedSetEntry[events.Count];
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // Members are "seq<TAB>[=item]<TAB>[=action]<TAB>[features JSON]"; tabs and backslashes are escaped.
            string features = e.Features is { Count: > 0 } fs ? Escape(FeatureJson.Write(fs)) : "";
            string member = string.Create(CultureInfo.InvariantCulture, $"{first + i:D20}\t{(e.Item is null ? "" : "=" + Escape(e.Item))}\t{(e.Action is null ? "" : "=" + Escape(e.Action))}\t{features}");
            entries[i] = new SortedSetEntry(member, e.Timestamp);
        }
        await db.SortedSetAddAsync(Key(user), entries);
    }

    private async Task<IReadOnlyList<StoredEvent>> ReadCoreAsync(string user, int max)
    {
        var db = _redis.GetDatabase();
        var entries = await db.SortedSetRangeByRankWithScoresAsync(Key(user), -max, -1, Order.Ascending);
        var list = new List<StoredEvent>(entries.Length);
        foreach (var entry in entries)
        {
            var parts = ((string)entry.Element!).Split('\t');
            if (parts.Length != 4) throw new InvalidDataException($"redis {Key(user)}: damaged member '{entry.Element}'.");
            list.Add(new StoredEvent(parts[1].Length == 0 ? null : Unescape(parts[1][1..]), parts[2].Length == 0 ? null : Unescape(parts[2][1..]), (long)entry.Score,
                parts[3].Length == 0 ? null : FeatureJson.Read(Unescape(parts[3]))));
        }
        return list;
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\t", "\\t");

    private static string Unescape(string v)
    {
        if (!v.Contains('\\')) return v;
        var sb = new System.Text.StringBuilder(v.Length);
        for (int i = 0; i < v.Length; i++)
        {
            if (v[i] == '\\' && i + 1 < v.Length) { sb.Append(v[++i] == 't' ? '\t' : v[i]); continue; }
            sb.Append(v[i]);
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public async Task<bool> PingAsync(CancellationToken cancel = default)
    {
        try
        {
            await _redis.GetDatabase().PingAsync();
            return true;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
