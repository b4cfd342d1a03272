using System.Globalization;
using StackExchange.Redis;

namespace GenRec.Serving.Stores;

/// <summary>
/// The networked store, for several server processes sharing user histories: one sorted set per user, scored by
/// timestamp, whose members carry a per-user arrival number (zero-padded, so equal timestamps keep their order)
/// and the event. An append is one ZADD, so it lands whole or not at all.
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
        try
        {
            var redis = await ConnectionMultiplexer.ConnectAsync(options);
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
    public async Task AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default)
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

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default)
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
        catch (RedisException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
