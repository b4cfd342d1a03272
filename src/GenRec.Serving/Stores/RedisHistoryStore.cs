using System.Globalization;
using StackExchange.Redis;

namespace GenRec.Serving.Stores;

/// <summary>
/// The networked store, for several server processes sharing user histories: one sorted set per user, scored by
/// timestamp, whose members carry a per-user arrival number (zero-padded, so equal timestamps keep their order)
/// and the event. An append is one ZADD, so it lands whole or not at all. While Redis is unreachable every call
/// fails within the store timeout (1 s by default) with <see cref="StoreUnavailableException"/> (the service answers
/// 503), and so does every error Redis replies (<c>LOADING</c> while it reads its data after a restart, <c>OOM</c>,
/// <c>READONLY</c>); the connection is re-established in the background. An event is acknowledged only after Redis
/// accepted it (run Redis with <c>appendonly yes</c> and <c>appendfsync always</c> so that acknowledged events survive
/// a Redis crash). Events with a client id are kept in a per-user set of ids, checked and added in the same script as
/// the append, so a retried append is stored once.
/// </summary>
public sealed class RedisHistoryStore : IHistoryStore
{
    private readonly ConnectionMultiplexer _redis;
    private readonly string _endpoint;
    private readonly TimeSpan _timeout;

    // One atomic step: assign arrival numbers, skip events whose client id the user's id set already holds, add the
    // rest, each also to the end of the global log (incremental training's input; its position is the event's
    // sequence number). KEYS: events, arrival counter, ids, log. ARGV: count, escaped user, then (id or "",
    // timestamp, member without its number).
    private const string AppendScript = """
        local n = tonumber(ARGV[1])
        local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
        local stored = 0
        for i = 0, n - 1 do
          local id = ARGV[3 + 3 * i]
          if id == '' or redis.call('SADD', KEYS[3], id) == 1 then
            seq = seq + 1
            redis.call('ZADD', KEYS[1], ARGV[4 + 3 * i], string.format('%020d', seq) .. '\t' .. ARGV[5 + 3 * i])
            redis.call('RPUSH', KEYS[4], ARGV[2] .. '\t' .. ARGV[4 + 3 * i] .. '\t' .. ARGV[5 + 3 * i])
            stored = stored + 1
          end
        end
        redis.call('SET', KEYS[2], string.format('%d', seq))
        return stored
        """;

    private RedisHistoryStore(ConnectionMultiplexer redis, string endpoint, TimeSpan timeout)
    {
        _redis = redis;
        _endpoint = endpoint;
        _timeout = timeout;
    }

    /// <inheritdoc />
    public string Describe => $"redis:{_endpoint}";

    /// <summary>
    /// Connects to Redis at <paramref name="configuration"/> (host:port and StackExchange.Redis options); a call that
    /// Redis does not answer within <paramref name="timeout"/> (default 1 s) fails with
    /// <see cref="StoreUnavailableException"/>.
    /// </summary>
    public static async Task<RedisHistoryStore> ConnectAsync(string configuration, TimeSpan? timeout = null)
    {
        var bound = timeout ?? TimeSpan.FromSeconds(1);
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        // Fail fast while Redis is away (the client retries, not this process), and reconnect on our own.
        options.SyncTimeout = (int)Math.Ceiling(bound.TotalMilliseconds);
        options.AsyncTimeout = (int)Math.Ceiling(bound.TotalMilliseconds);
        options.ConnectRetry = 1;
        options.ReconnectRetryPolicy = new LinearRetry(250);
        options.BacklogPolicy = BacklogPolicy.FailFast;
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options);
            // Only the first connection must succeed; after it, outages are survived by reconnecting.
            redis.GetDatabase();
            return new RedisHistoryStore(redis, string.Join(",", options.EndPoints.Select(e => e.ToString())), bound);
        }
        catch (RedisConnectionException e)
        {
            throw new IOException($"redis:{configuration}: cannot connect ({e.Message.Split('\n')[0]}).", e);
        }
    }

    private static RedisKey Key(string user) => "genrec:events:" + user;

    /// <summary>Every stored event in arrival order: "user TAB timestamp TAB member" (escaped as members are).
    /// </summary>
    private static readonly RedisKey Log = "genrec:log";

    private static RedisKey Counter(string user) => "genrec:seq:" + user;

    private static RedisKey Ids(string user) => "genrec:ids:" + user;

    /// <inheritdoc />
    public Task<int> AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default) =>
        GuardAsync(() => AppendCoreAsync(user, events));

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default) =>
        GuardAsync(() => ReadCoreAsync(user, max));

    /// <summary>
    /// Runs a call with the store's bound on it: a Redis that hangs, is away, or answers an error becomes
    /// <see cref="StoreUnavailableException"/>. StackExchange.Redis checks its own timeouts only on a heartbeat (up to
    /// a second late), so the bound is enforced here.
    /// </summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> call)
    {
        try { return await call().WaitAsync(_timeout); }
        catch (TimeoutException e)
        {
            throw new StoreUnavailableException(
                $"history store {Describe} did not answer within {_timeout.TotalMilliseconds:F0} ms; retry later.", e);
        }
        catch (Exception e) when (IsLoading(e))
        {
            throw new StoreUnavailableException(
                $"history store {Describe} is loading its data set into memory after a restart; retry later.", e);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            // The client's messages run to a kilobyte of connection diagnostics: the first clause says what happened.
            string what = e.Message.Split('\n', ';')[0];
            if (what.IndexOf(" (", StringComparison.Ordinal) is > 0 and var cut) what = what[..cut];
            throw new StoreUnavailableException(
                $"history store {Describe} is unavailable ({e.GetType().Name}: {what}); retry later.", e);
        }
    }

    /// <summary>Redis answered <c>LOADING</c>: as a reply to a command, or while (re)connecting.</summary>
    private static bool IsLoading(Exception e) =>
        e is RedisServerException s && s.Message.StartsWith("LOADING", StringComparison.Ordinal)
        || e is RedisConnectionException { FailureType: ConnectionFailureType.Loading }
        || e.InnerException is RedisConnectionException { FailureType: ConnectionFailureType.Loading };

    private async Task<int> AppendCoreAsync(string user, IReadOnlyList<StoredEvent> events)
    {
        if (events.Count == 0) return 0;
        var args = new RedisValue[2 + 3 * events.Count];
        args[0] = events.Count;
        args[1] = Escape(user);
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i];
            // Members are "seq<TAB>[=item]<TAB>[=action]<TAB>[features JSON]"; tabs and backslashes are escaped.
            string features = e.Features is { Count: > 0 } fs ? Escape(FeatureJson.Write(fs)) : "";
            args[2 + 3 * i] = e.Id ?? "";
            args[3 + 3 * i] = e.Timestamp;
            args[4 + 3 * i] = string.Create(CultureInfo.InvariantCulture,
                $"{(e.Item is null ? "" : "=" + Escape(e.Item))}\t{(e.Action is null ? "" : "=" + Escape(e.Action))}\t{features}");
        }
        var stored = await _redis.GetDatabase().ScriptEvaluateAsync(AppendScript,
            [Key(user), Counter(user), Ids(user), Log], args);
        return (int)stored;
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

    /// <inheritdoc />
    public Task<IReadOnlyList<GenRec.Data.LoggedEvent>> ReadLogAsync(long after, int max,
        CancellationToken cancel = default) => GuardAsync(async () =>
        {
            var entries = await _redis.GetDatabase().ListRangeAsync(Log, after, after + max - 1);
            var list = new List<GenRec.Data.LoggedEvent>(entries.Length);
            for (int i = 0; i < entries.Length; i++)
            {
                var parts = ((string)entries[i]!).Split('\t');
                if (parts.Length != 5 || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out long ts))
                    throw new InvalidDataException($"redis {Log}: damaged entry {after + i + 1} '{entries[i]}'.");
                // A features-only event keeps its place in the log with an empty item (it trains nothing).
                string item = parts[2].Length == 0 ? "" : Unescape(parts[2][1..]);
                list.Add(new GenRec.Data.LoggedEvent(after + i + 1, Unescape(parts[0]), item, ts));
            }
            return (IReadOnlyList<GenRec.Data.LoggedEvent>)list;
        });

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
            // A read, not PING: a Redis still loading its data answers PING but refuses every command we need.
            await GuardAsync(async () => await _redis.GetDatabase().KeyExistsAsync("genrec:ping"));
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
