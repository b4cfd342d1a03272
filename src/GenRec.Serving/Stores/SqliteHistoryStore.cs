using Microsoft.Data.Sqlite;

namespace GenRec.Serving.Stores;

/// <summary>
/// The embedded default store: one SQLite file in WAL mode (readers never wait for the writer), a table of
/// events keyed by user with an arrival sequence so that equal timestamps keep their order, and a unique index on
/// (user, client event id) so that a retried append is stored once. Any SQLite error (locked past the wait, disk
/// full, read-only, damaged file) is a <see cref="StoreUnavailableException"/>: the service answers 503.
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
        // And before client event ids existed.
        cmd.CommandText = "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'event_id'";
        if (Convert.ToInt64(await cmd.ExecuteScalarAsync(cancel), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            cmd.CommandText = "ALTER TABLE events ADD COLUMN event_id TEXT NULL";
            await cmd.ExecuteNonQueryAsync(cancel);
        }
        cmd.CommandText = "CREATE UNIQUE INDEX IF NOT EXISTS events_user_event_id ON events (user, event_id) "
            + "WHERE event_id IS NOT NULL";
        await cmd.ExecuteNonQueryAsync(cancel);
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

    /// <summary>Runs a store operation, turning every SQLite error into <see cref="StoreUnavailableException"/>.</summary>
    private async Task<T> GuardAsync<T>(Func<Task<T>> operation)
    {
        try { return await operation(); }
        catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)   // SQLITE_BUSY, SQLITE_LOCKED
        {
            throw new StoreUnavailableException($"history store {Describe} is locked by another process and stayed "
                + $"so for {_busyMilliseconds} ms; retry later.", e);
        }
        catch (SqliteException e)
        {
            throw new StoreUnavailableException(
                $"history store {Describe} failed (SQLite error {e.SqliteErrorCode}: {e.Message}); retry later.", e);
        }
    }

    /// <inheritdoc />
    public Task<int> AppendAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel = default) =>
        GuardAsync(() => AppendLockedAsync(user, events, cancel));

    private async Task<int> AppendLockedAsync(string user, IReadOnlyList<StoredEvent> events, CancellationToken cancel)
    {
        await using var c = await ConnectAsync(cancel);
        await using var tx = (SqliteTransaction)await c.BeginTransactionAsync(cancel);
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        // OR IGNORE: an event whose client id the user already has (a retry) is skipped; nothing else can conflict.
        cmd.CommandText = "INSERT OR IGNORE INTO events (user, item, action, ts, features, event_id) "
            + "VALUES ($u, $i, $a, $t, $f, $e)";
        var u = cmd.Parameters.Add("$u", SqliteType.Text);
        var i = cmd.Parameters.Add("$i", SqliteType.Text);
        var a = cmd.Parameters.Add("$a", SqliteType.Text);
        var t = cmd.Parameters.Add("$t", SqliteType.Integer);
        var f = cmd.Parameters.Add("$f", SqliteType.Text);
        var id = cmd.Parameters.Add("$e", SqliteType.Text);
        int stored = 0;
        foreach (var e in events)
        {
            u.Value = user;
            i.Value = e.Item ?? "";
            a.Value = (object?)e.Action ?? DBNull.Value;
            t.Value = e.Timestamp;
            f.Value = e.Features is { Count: > 0 } fs ? FeatureJson.Write(fs) : DBNull.Value;
            id.Value = (object?)e.Id ?? DBNull.Value;
            stored += await cmd.ExecuteNonQueryAsync(cancel);
        }
        await tx.CommitAsync(cancel);
        return stored;
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
    public Task<IReadOnlyList<GenRec.Data.LoggedEvent>> ReadLogAsync(long after, int max,
        CancellationToken cancel = default) => GuardAsync(async () =>
        {
            // seq is assigned inside the single writer's transaction, so no later commit can hold a lower one.
            await using var c = await ConnectAsync(cancel);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT seq, user, item, ts FROM events WHERE seq > $a AND item <> '' "
                + "ORDER BY seq LIMIT $n";
            cmd.Parameters.AddWithValue("$a", after);
            cmd.Parameters.AddWithValue("$n", max);
            var list = new List<GenRec.Data.LoggedEvent>();
            await using var r = await cmd.ExecuteReaderAsync(cancel);
            while (await r.ReadAsync(cancel))
                list.Add(new GenRec.Data.LoggedEvent(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt64(3)));
            return (IReadOnlyList<GenRec.Data.LoggedEvent>)list;
        });

    /// <inheritdoc />
    public async Task<bool> PingAsync(CancellationToken cancel = default)
    {
        try
        {
            await using var c = await ConnectAsync(cancel);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM (SELECT 1 FROM events LIMIT 1)";
            await cmd.ExecuteScalarAsync(cancel);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
