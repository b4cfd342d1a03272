using GenRec.Serving.Stores;

namespace GenRec.Tests.Serving;

/// <summary>The same contract for every store: whole appends, latest-N by time with arrival order at ties, users apart.</summary>
public class HistoryStoreTests
{
    private static async Task CheckContractAsync(IHistoryStore store)
    {
        Assert.True(await store.PingAsync());
        Assert.Empty(await store.ReadAsync("u1", 10));
        await store.AppendAsync("u1", [new("a", "5", 30), new("b", null, 10)]);
        await store.AppendAsync("u1", [new("c", "buy", 20), new("d\tx\\t", "4", 20)]);
        await store.AppendAsync("u2", [new("z", "1", 5)]);
        await store.AppendAsync("u3", [new(null, null, 7, new Dictionary<string, string> { ["zip"] = "10\t001", ["creator"] = "x\\y" })]);
        var u3 = Assert.Single(await store.ReadAsync("u3", 10));
        Assert.Null(u3.Item);
        Assert.Equal("10\t001", u3.Features!["zip"]);
        Assert.Equal("x\\y", u3.Features["creator"]);
        var all = await store.ReadAsync("u1", 10);
        Assert.Equal(["b", "c", "d\tx\\t", "a"], all.Select(e => e.Item));
        Assert.Equal([10L, 20, 20, 30], all.Select(e => e.Timestamp));
        Assert.Equal([null, "buy", "4", "5"], all.Select(e => e.Action));
        var latest = await store.ReadAsync("u1", 2);
        Assert.Equal(["d\tx\\t", "a"], latest.Select(e => e.Item));
        Assert.Equal(["z"], (await store.ReadAsync("u2", 10)).Select(e => e.Item));
        await CheckLogAsync(store);
    }

    /// <summary>
    /// The log incremental training reads: every item event of every user in arrival order (not time order), with
    /// rising sequence numbers; a retried event (same id) is not logged twice; pages continue from the last number.
    /// </summary>
    private static async Task CheckLogAsync(IHistoryStore store)
    {
        await store.AppendAsync("u4", [new("r1", null, 100, null, "e1"), new("r2", null, 90)]);
        await store.AppendAsync("u4", [new("r1", null, 100, null, "e1")]);   // a retry
        var log = (await store.ReadLogAsync(0, 1000)).Where(e => e.Item.Length > 0).ToList();
        Assert.Equal(["a", "b", "c", "d\tx\\t", "z", "r1", "r2"], log.Select(e => e.Item));
        Assert.Equal(["u1", "u1", "u1", "u1", "u2", "u4", "u4"], log.Select(e => e.User));
        Assert.Equal([30L, 10, 20, 20, 5, 100, 90], log.Select(e => e.Timestamp));
        Assert.True(log.Zip(log.Skip(1)).All(p => p.First.Seq < p.Second.Seq));
        // Paging: from the last number of a page, the rest.
        var page = await store.ReadLogAsync(0, 3);
        var rest = await store.ReadLogAsync(page[^1].Seq, 1000);
        Assert.Equal(log.Select(e => e.Seq),
            page.Concat(rest).Where(e => e.Item.Length > 0).Select(e => e.Seq));
        Assert.Empty(await store.ReadLogAsync(log[^1].Seq, 10));
    }

    [Fact]
    public async Task SqliteKeepsTheContract()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "sub", "events.db");
        await using (var store = await HistoryStores.OpenAsync("sqlite:" + path)) await CheckContractAsync(store);
        // The file is the source of truth: a new process (here, a new store object) sees the same history.
        await using var again = await SqliteHistoryStore.OpenAsync(path);
        Assert.Equal(4, (await again.ReadAsync("u1", 100)).Count);
    }

    [Fact]
    public async Task ASqliteStoreLockedByAnotherProcessIsUnavailableWithinItsBoundedWait()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "events.db");
        await using var store = await SqliteHistoryStore.OpenAsync(path, busyTimeout: TimeSpan.FromMilliseconds(300));
        // Another process's writer holding the database (the old wait was 5 s of busy_timeout, then up to 30 s of
        // Microsoft.Data.Sqlite's own retries, then a 500).
        var other = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path, Pooling = false };
        await using (var locker = new Microsoft.Data.Sqlite.SqliteConnection(other.ToString()))
        {
            await locker.OpenAsync();
            await using (var begin = locker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE;";
                await begin.ExecuteNonQueryAsync();
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<StoreUnavailableException>(() =>
                store.AppendAsync("u1", [new StoredEvent("a", null, 5, null)]));
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.2, 2.5);
            Assert.Contains("is locked by another process", e.Message);
        }
        await store.AppendAsync("u1", [new StoredEvent("a", null, 5, null)]);
        Assert.Single(await store.ReadAsync("u1", 10));
    }

    [RedisFact]
    public async Task RedisKeepsTheContract()
    {
        using var server = new RedisServer();
        await using var store = await HistoryStores.OpenAsync("redis:" + server.Configuration);
        Assert.StartsWith("redis:", store.Describe);
        await CheckContractAsync(store);
    }

    [Fact]
    public async Task UnknownStoresAndUnreachableRedisAreClearErrors()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => HistoryStores.OpenAsync("mongodb://x"));
        Assert.Contains("sqlite:PATH or redis:HOST:PORT", e.Message);
        var io = await Assert.ThrowsAsync<IOException>(() => HistoryStores.OpenAsync("redis:127.0.0.1:1"));
        Assert.Contains("cannot connect", io.Message);
    }
}
