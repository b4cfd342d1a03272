using Microsoft.Data.Sqlite;

namespace GenRec.Serving.Stores;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode (readers never wait for the writer), a table of
/// events keyed by user with an arrival sequence so that equal timestamps keep their order.
/// </summary>
public sealed class SqliteHistoryStore : IHistoryStore
{
    private readonly string _connectionString;
    private readonly string _path;
    private readonly int _busyMilliseconds;

    /// <summary>How long a request waits for a store another process holds locked, by default: then 503.</summary>
    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(1);

    private SqliteHistoryStore(string path, TimeSpan busyTimeout)
    {
        _path = path;
        _busyMilliseconds = (int)Math.Clamp(busyTimeout.TotalMilliseconds, 1, int.MaxValue);
        // Microsoft.Data.Sqlite retries a busy database until the command timeout (30 s by default) on top of
        // SQLite's own busy_timeout: both are bounded here, so that a locked store answers 503 within the wait asked.
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(busyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <inheritdoc />
    public string Describe => $"sqlite:{_path}";

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="path"/>; a request finding it locked by another process
    /// waits at most <paramref name="busyTimeout"/> (default <see cref="DefaultBusyTimeout"/>), then fails with
    /// <see cref="StoreUnavailableException"/> (the service's 503).
    /// </summary>
    public static async Task<SqliteHistoryStore> OpenAsync(string path, CancellationToken cancel = default,
        TimeSpan? busyTimeout = null)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var store = new SqliteHistoryStore(path, busyTimeout ?? DefaultBusyTimeout);
        await using var c = await store.ConnectAsync(cancel);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                user TEXT NOT NULL,
                item TEXT NOT NULL,
                action TEXT NULL,
                ts INTEGER NOT NULL,
                features TEXT NULL);
            CREATE INDEX IF NOT EXISTS events_user_ts ON events (user, ts, seq);
            """;
        await cmd.ExecuteNonQueryAsync(cancel);
        // Stores written before feature values existed lack the column; add it in place.
        cmd.CommandText = "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'features'";
        if (Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            cmd.CommandText = "ALTER TABLE events ADD COLUMN features TEXT NULL";
            await cmd.ExecuteNonQueryAsync(cancel);
        }
        return store;
    }

    private async Task<SqliteConnection> ConnectAsync(CancellationToken cancel)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancel);
        await using var pragma = c.CreateCommand();
        pragma.CommandText = $"PRAGMA busy_timeout = {_busyMilliseconds};";
        await pragma.ExecuteNonQueryAsync(cancel);
        return c;
    }

    /// <summary>Runs a store operation, turning "locked by another process" into <see cref="StoreUnavailableException"/>.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> operation)
    {
        try { return await operation(); }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)   // SQLITE_BUSY, SQLITE_LOCKED
        {
            throw Locked(e);
        }
    }

    /// <inheritdoc cref="GuardAsync{T}"/>
    private async Task GuardAsync(Func<Task> operation)
    {
        try { await operation(); }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
        {
            throw Locked(e);
        }
    }

    private StoreUnavailableException Locked(SqliteException e) =>
        new($"history store {Describe} is locked by another process and stayed so for {_busyMilliseconds} ms; "
            + "retry later.", e);

    /// <inheritdoc />
    public Task AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default) =>
        GuardAsync(() => AppendLockedAsync(user, events, cancel));

    private async Task AppendLockedAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel)
    {
        await using var c = await ConnectAsync(cancel);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancel);
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO events (user, item, action, ts, features) VALUES ($u, $i, $a, $t, $f)";
        var u = cmd.Parameters.Add("$u", SqliteType.Text);
        var i = cmd.Parameters.Add("$i", SqliteType.Text);
        var a = cmd.Parameters.Add("$a", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var f = cmd.Parameters.Add("$f", SqliteType.Text);
        foreach (var e in events)
        {
            u.Value = user;
            i.Value = e.Item ?? "";
            a.Value = (object?)e.Action ?? DBNull.Value;
            t.Value = e.Timestamp;
            f.Value = e.Features is { Count: > 0 } fs ? FeatureJson.Write(fs) : DBNull.Value;
            await cmd.ExecuteNonQueryAsync(cancel);
        }
        await tx.CommitAsync(cancel);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default) =>
        GuardAsync(() => ReadLockedAsync(user, max, cancel));

    private async Task<IReadOnlyList<StoredEvent>> ReadLockedAsync(string user, int max, CancellationToken cancel)
    {
        await using var c = await ConnectAsync(cancel);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT item, action, ts, features FROM events WHERE user = $u ORDER BY ts DESC, seq DESC LIMIT $n";
        cmd.Parameters.AddWithValue("$u", user);
        cmd.Parameters.AddWithValue("$n", max);
        var list = new List<StoredEvent>();
        await using var r = await cmd.ExecuteReaderAsync(cancel);
        while (await r.ReadAsync(cancel))
        {
            string item = r.GetString(0);
            list.Add(new StoredEvent(item.Length == 0 ? null : item, r.IsDBNull(1) ? null : r.GetString(1), r.GetInt64(2), r.IsDBNull(3) ? null : FeatureJson.Read(r.GetString(3))));
        }
        list.Reverse();
        return list;
    }

    /// <inheritdoc />
    public async Task<bool> PingAsync(CancellationToken cancel = default)
    {
        await using var c = await ConnectAsync(cancel);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT 1";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), System.Globalization.CultureInfo.InvariantCulture) == 1;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
