using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Training;

/// <summary>
/// Continues a training run on the events that arrived after it: the paper's streaming setting. Each update takes the
/// events of the log after the run's watermark, gives items first seen there a row of the item table (the dynamic
/// vocabulary: admission by <see cref="TrainingConfig.MinItemEvents"/>, eviction of the least recently seen ones
/// past <see cref="TrainingConfig.ItemCapacity"/>), and trains one pass (or several) on next-item prediction of the new
/// events, each user's earlier history (the dataset, then earlier log events) as context. The run's checkpoint holds
/// the watermark and the update under way with the weights and optimiser, written atomically every few steps; after a
/// crash at any point the next run continues the same update from the same state, so every event is trained exactly
/// once. A finished update can publish its model into a folder that <c>genrec serve --watch</c> reloads from.
/// </summary>
/// <remarks>
/// The log must only grow at its end (a store's sequence numbers, a file's lines): the watermark is a position in it.
/// Sequences are items only (a model with feature tokens or actions is refused); item side features are kept for the
/// dataset's items, and items added from the log have none.
/// </remarks>
public sealed class IncrementalTraining(string runDirectory, PreparedDataset data, Device device,
    IncrementalOptions options)
{
    private readonly RunFolder _run = new(runDirectory);

    /// <summary>Notes on what the update is doing.</summary>
    public IProgress<string>? Notes { get; set; }

    /// <summary>Receives a report after every step.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>
    /// Runs one update over the events of <paramref name="log"/> (all of it, in sequence order;
    /// <paramref name="source"/> names it) after the run's watermark, or finishes the update an earlier run left.
    /// Cancelling stops after the current step with a checkpoint to continue from.
    /// </summary>
    public IncrementalReport Run(IReadOnlyList<LoggedEvent> log, string source, CancellationToken cancel = default)
        => Run(log, source, null, cancel);

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{LoggedEvent}, string, CancellationToken)"/>, listing the items of
    /// <paramref name="catalog"/> (key and side-feature value ids, <see cref="ItemCatalogFile"/>) first: a new item
    /// there gets a row and its side features at this update, before anyone chose it (cold start), whatever the
    /// admission rule.
    /// </summary>
    public IncrementalReport Run(IReadOnlyList<LoggedEvent> log, string source,
        IReadOnlyList<(string Key, long[][] Features)>? catalog, CancellationToken cancel = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var path = _run.Checkpoint;
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no checkpoint; incremental training continues a run of genrec "
                + "train (its folder).", path);
        using var exclusive = Lock();
        var header = Checkpoint.ReadHeader(path);
        if (header.IsRanking)
            throw new InvalidDataException($"{path}: a ranking checkpoint; incremental training continues retrieval "
                + "runs.");
        if (header.DataFingerprint is null)
            throw new InvalidDataException($"{path}: a checkpoint without training state; continue a run folder of "
                + "genrec train.");
        if (header.Step != 0)
            throw new InvalidDataException($"{path}: the run stopped inside epoch {header.Epoch + 1}; finish it first "
                + $"(genrec train --resume {runDirectory}).");
        var state = header.Stream ?? new StreamState { Source = source };
        if (state.Source != source)
            throw new ArgumentException($"{path}: the run reads events from {state.Source}, not {source}; its "
                + $"watermark (event {state.Watermark}) numbers that log's events.");
        var pending = state.Pending;
        var cfg = Configure(header.Config, pending is not null, path);
        var space = data.Features.Select(cfg.Features);
        if (space.TokenKinds.Count > 0 || space.Actions.Count > 0)
            throw new NotSupportedException($"{data.Name}: incremental training reads item-only sequences; this "
                + "model also embeds feature tokens or actions. Retrain it on the new data (or train with "
                + "features.actions, features.contextual and features.auxiliary off).");
        header.EnsureFits(path, data);
        CheckLog(log, source, state.Watermark);

        using var trainer = new Trainer(cfg, data, device, header.ItemTableSize) { Progress = Progress };
        if (trainer.DataFingerprint != header.DataFingerprint)
            throw new InvalidDataException($"{path}: the run was trained on other data than {data.Name} (fingerprint "
                + $"{header.DataFingerprint[..12]}… at the checkpoint, {trainer.DataFingerprint[..12]}… now); pass "
                + "the data it was trained on: the history before the new events.");
        trainer.RestoreState(path);
        var keys = (header.ItemKeys ?? throw new InvalidDataException($"{path}: no item ids recorded.")).ToList();
        long from = state.Watermark;
        var fresh = log.Where(e => e.Seq > from);
        if (pending is null)
        {
            var span = (options.MaxEvents > 0 ? fresh.Take(options.MaxEvents) : fresh).ToList();
            if (span.Count == 0)
            {
                string? published = CatchUpPublish(trainer, header, state);
                return Report(source, state, from, 0, header, trainer, clock) with
                {
                    NothingNew = true,
                    Published = published,
                };
            }
            pending = new StreamSpan
            {
                To = span[^1].Seq,
                Events = span.Count,
                Digest = Digest(span),
                Passes = options.Passes,
                Replay = options.Replay,
            };
        }
        var spanEvents = fresh.TakeWhile(e => e.Seq <= pending.To).ToList();
        if (spanEvents.Count != pending.Events || Digest(spanEvents) != pending.Digest)
            throw new InvalidDataException($"{source}: the events after the watermark ({from}) changed while an update "
                + $"over them was under way ({pending.Events} events to {pending.To} then, {spanEvents.Count} now); "
                + "the log must only grow at its end.");
        bool resumed = state.Pending is not null;
        var vocabulary = resumed ? default : Admit(trainer, keys, log, from, pending.To, cfg, catalog ?? []);
        state = state with
        {
            Pending = pending,
            ItemsAdmitted = state.ItemsAdmitted + vocabulary.Admitted,
            ItemsEvicted = state.ItemsEvicted + vocabulary.Evicted,
        };
        var index = new Dictionary<string, long>(keys.Count, StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i++) index[keys[i]] = i + 1;
        var byUser = log.TakeWhile(e => e.Seq <= pending.To).GroupBy(e => e.User, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var windows = new List<TokenWindow>();
        long targets = 0;
        foreach (var user in spanEvents.Select(e => e.User).Distinct(StringComparer.Ordinal))
            targets += Cut(Sequence(user, byUser, index, from), cfg.Model.MaxLength, user, windows);
        var replay = Replay(byUser, index, from, (int)Math.Round(pending.Replay * windows.Count), cfg, state.Updates);
        var all = windows.Concat(replay).ToList();
        var corpus = Enumerable.Range(1, keys.Count).Select(i => (long)i).ToArray();
        Notes?.Report($"update {state.Updates + 1}: events {from + 1}…{pending.To} ({pending.Events:N0}), "
            + $"{windows.Count:N0} windows ({targets:N0} targets) + {replay.Count:N0} replayed, {keys.Count:N0} items"
            + (resumed ? $", continuing at pass {pending.Pass + 1}, step {pending.Step}" : ""));

        int steps = 0;
        long tokens = 0;
        for (int pass = pending.Pass; pass < pending.Passes; pass++)
        {
            int done = pass == pending.Pass ? pending.Step : 0;
            int epoch = 1_000_000 + 1000 * (state.Updates % 1000) + pass;
            int currentPass = pass;
            var result = trainer.TrainOn(all, corpus, epoch, done, (step, total) =>
            {
                done = step;
                if (step % options.CheckpointEvery == 0 && step < total)
                {
                    var at = pending with { Pass = currentPass, Step = step };
                    Save(trainer, header, cfg, keys, state with { Pending = at });
                }
            }, cancel);
            steps += result.Steps;
            tokens += result.Tokens;
            if (cancel.IsCancellationRequested && done < trainer.StepsFor(all))
            {
                Save(trainer, header, cfg, keys, state with { Pending = pending with { Pass = pass, Step = done } });
                return Report(source, state, from, pending.Events, header, trainer, clock, keys) with
                {
                    Interrupted = true,
                    Resumed = resumed,
                    Steps = steps,
                    Tokens = tokens,
                };
            }
            if (pass + 1 < pending.Passes)
                Save(trainer, header, cfg, keys, state with { Pending = pending with { Pass = pass + 1, Step = 0 } });
        }
        var finished = state with
        {
            Watermark = pending.To,
            EventsTrained = state.EventsTrained + pending.Events,
            Updates = state.Updates + 1,
            NewestEventTime = Math.Max(state.NewestEventTime, spanEvents.Max(e => e.Timestamp)),
            Pending = null,
        };
        var saved = Save(trainer, header, cfg, keys, finished);
        var report = Report(source, finished, from, pending.Events, header, trainer, clock, keys) with
        {
            To = pending.To,
            Resumed = resumed,
            ItemsAdmitted = vocabulary.Admitted,
            ItemsEvicted = vocabulary.Evicted,
            ItemsWaiting = vocabulary.Waiting,
            ItemsRefused = vocabulary.Refused,
            Windows = windows.Count,
            Targets = targets,
            Steps = steps,
            Tokens = tokens,
            Published = Publish(trainer, saved),
        };
        _run.AppendUpdate(report);
        return report with { Seconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// Holds <c>update.lock</c> in the run folder for the update: a second trainer on the same run would continue the
    /// same update twice, so it is refused. The lock is the operating system's (released if the process dies).
    /// </summary>
    private FileStream Lock()
    {
        var file = Path.Combine(runDirectory, "update.lock");
        try { return new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e)
        {
            throw new IOException($"{runDirectory}: another genrec train is updating this run ({file} is locked); "
                + "run one trainer per run folder.", e);
        }
    }

    /// <summary>The config of the update: the run's, with this run's item capacity and admission rule.</summary>
    private ExperimentConfig Configure(ExperimentConfig config, bool pending, string path)
    {
        var t = config.Training with
        {
            ItemCapacity = options.ItemCapacity ?? config.Training.ItemCapacity,
            MinItemEvents = options.MinItemEvents ?? config.Training.MinItemEvents,
        };
        if (pending && t != config.Training)
            throw new ArgumentException($"{path}: an update is under way with training.itemCapacity "
                + $"{config.Training.ItemCapacity} and training.minItemEvents {config.Training.MinItemEvents}; finish "
                + "it with those, then change them.");
        var cfg = config with { Training = t };
        cfg.Validate();
        return cfg;
    }

    private static void CheckLog(IReadOnlyList<LoggedEvent> log, string source, long watermark)
    {
        for (int i = 1; i < log.Count; i++)
            if (log[i].Seq <= log[i - 1].Seq)
                throw new InvalidDataException($"{source}: event {log[i].Seq} follows event {log[i - 1].Seq}; a log "
                    + "must be read in rising sequence order.");
        if (watermark > 0 && (log.Count == 0 || log[^1].Seq < watermark))
            throw new InvalidDataException($"{source}: the log ends at event {(log.Count == 0 ? 0 : log[^1].Seq)}, "
                + $"before the run's watermark ({watermark}): events it was trained on are gone. Point --events at "
                + "the log the run reads.");
    }

    private static string Digest(IEnumerable<LoggedEvent> events)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in events)
            h.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{e.Seq}\t{e.User}\t{e.Item}\t{e.Timestamp}\n")));
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>
    /// The dynamic vocabulary: items of the span the model has no row for get one, in order of first appearance, once
    /// they have <see cref="TrainingConfig.MinItemEvents"/> events in the log so far. Past the capacity, the items
    /// first seen after the base training that were seen least recently (and not in this span) hand over their rows.
    /// The table grows by half when it runs out of rows, never past the capacity.
    /// </summary>
    private (int Admitted, int Evicted, int Waiting, int Refused) Admit(Trainer trainer, List<string> keys,
        IReadOnlyList<LoggedEvent> log, long from, long to, ExperimentConfig cfg,
        IReadOnlyList<(string Key, long[][] Features)> catalog)
    {
        int capacity = cfg.Training.ItemCapacity, permanent = data.ItemKeys.Count;
        if (capacity > 0 && capacity < permanent + 1)
            throw new ArgumentException($"training.itemCapacity {capacity} is below the {permanent + 1} rows the "
                + $"items of {data.Name} need (they are never evicted).");
        var known = new Dictionary<string, int>(keys.Count, StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i++) known[keys[i]] = i + 1;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastSeen = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in log)
        {
            if (e.Seq > to) break;
            lastSeen[e.Item] = e.Seq;
            if (!known.ContainsKey(e.Item)) counts[e.Item] = counts.GetValueOrDefault(e.Item) + 1;
        }
        var listed = catalog.Where(c => !known.ContainsKey(c.Key)).Select(c => c.Key)
            .Distinct(StringComparer.Ordinal).ToList();
        var newcomers = listed.Concat(log.Where(e => e.Seq > from && e.Seq <= to && !known.ContainsKey(e.Item))
            .Select(e => e.Item)).Distinct(StringComparer.Ordinal).ToList();
        var isListed = listed.ToHashSet(StringComparer.Ordinal);
        // Evictable rows, least recently seen first: items added after the base training and not seen in this span.
        var evictable = new Queue<int>(Enumerable.Range(permanent + 1, keys.Count - permanent)
            .Where(id => lastSeen.GetValueOrDefault(keys[id - 1]) <= from)
            .OrderBy(id => lastSeen.GetValueOrDefault(keys[id - 1])).ThenBy(id => id));
        int admitted = 0, evicted = 0, waiting = 0, refused = 0;
        var reset = new List<long>();
        foreach (var key in newcomers)
        {
            if (!isListed.Contains(key) && counts[key] < cfg.Training.MinItemEvents) { waiting++; continue; }
            if (capacity > 0 && keys.Count + 1 >= capacity)
            {
                if (evictable.Count == 0) { refused++; continue; }
                int id = evictable.Dequeue();
                keys[id - 1] = key;
                reset.Add(id);
                evicted++;
            }
            else keys.Add(key);
            admitted++;
        }
        long rows = trainer.Model.ItemTableSize, need = keys.Count + 1;
        if (need > rows)
        {
            long grown = Math.Max(need, rows + rows / 2);
            if (capacity > 0) grown = Math.Min(grown, capacity);
            trainer.GrowItems(grown);
        }
        trainer.ResetItems([.. reset]);
        // Side features of the catalog's items that have a row added after the dataset (new or listed again).
        var row = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = permanent; i < keys.Count; i++) row[keys[i]] = i + 1;
        foreach (var (key, features) in catalog)
            if (row.TryGetValue(key, out int id)) trainer.Model.SetItemFeatures(id, features);
        if (admitted + waiting + refused > 0)
            Notes?.Report($"items: {admitted:N0} admitted ({evicted:N0} of them into evicted rows), {waiting:N0} "
                + $"waiting for {cfg.Training.MinItemEvents} events, {refused:N0} refused (capacity full)");
        return (admitted, evicted, waiting, refused);
    }

    /// <summary>
    /// A user's item sequence up to the span's end: the dataset's items, then the log's (those with a row), in time
    /// order; each marked whether it is new (after the watermark <paramref name="from"/>).
    /// </summary>
    private List<(long Id, long Time, bool New)> Sequence(string user,
        Dictionary<string, List<LoggedEvent>> byUser, Dictionary<string, long> index, long from)
    {
        var seq = new List<(long Id, long Time, bool New)>();
        if (data.UserRow(user) is int row)
            foreach (var t in data.Tokens(row))
                if (t.IsItem) seq.Add((t.Value, t.Timestamp, false));
        if (byUser.TryGetValue(user, out var events))
            foreach (var e in events)
                if (index.TryGetValue(e.Item, out long id)) seq.Add((id, e.Timestamp, e.Seq > from));
        // Stable: at equal times the dataset's items come first, then the log's in arrival order.
        return seq.OrderBy(x => x.Time).ToList();
    }

    /// <summary>
    /// Cuts training windows of up to <paramref name="maxLength"/> + 1 tokens ending at the user's new items, so
    /// that every new item with history before it is a supervised target exactly once; returns the targets.
    /// </summary>
    private long Cut(List<(long Id, long Time, bool New)> seq, int maxLength, string user, List<TokenWindow> into)
    {
        long targets = 0;
        int end = seq.FindLastIndex(x => x.New);
        long row = data.UserRow(user) ?? -1;
        while (end >= 1)
        {
            int start = Math.Max(0, end - maxLength);
            var part = seq.GetRange(start, end - start + 1);
            var mask = new bool[part.Count];
            for (int i = 0; i + 1 < part.Count; i++) mask[i] = part[i + 1].New;
            int n = mask.Count(m => m);
            if (n > 0)
            {
                var ids = part.Select(x => x.Id).ToArray();
                into.Add(new TokenWindow(row, ids, part.Select(x => x.Time).ToArray(), 0, 0) { Supervised = mask });
                targets += n;
            }
            end = seq.FindLastIndex(start, start + 1, x => x.New);
        }
        return targets;
    }

    /// <summary>
    /// Replay: <paramref name="count"/> windows of history before the span (users drawn at random, each user's latest
    /// window, every position learning), mixed in so the model keeps what it knew while it learns the new events.
    /// </summary>
    private List<TokenWindow> Replay(Dictionary<string, List<LoggedEvent>> byUser, Dictionary<string, long> index,
        long from, int count, ExperimentConfig cfg, int update)
    {
        var windows = new List<TokenWindow>();
        if (count <= 0) return windows;
        var users = Enumerable.Range(0, data.UserCount).Select(data.UserKey)
            .Concat(byUser.Keys.Where(k => data.UserRow(k) is null).Order(StringComparer.Ordinal)).ToList();
        var rng = new Random(unchecked(cfg.Training.Seed * 7919 + update));
        for (int tries = 0; windows.Count < count && tries < 20 * count; tries++)
        {
            var user = users[rng.Next(users.Count)];
            var seq = Sequence(user, byUser, index, from).Where(x => !x.New).ToList();
            if (seq.Count < 2) continue;
            var part = seq.Skip(Math.Max(0, seq.Count - cfg.Model.MaxLength - 1)).ToList();
            windows.Add(new TokenWindow(data.UserRow(user) ?? -1, part.Select(x => x.Id).ToArray(),
                part.Select(x => x.Time).ToArray(), 0, 0));
        }
        return windows;
    }

    private Checkpoint Save(Trainer trainer, Checkpoint header, ExperimentConfig cfg, List<string> keys,
        StreamState state)
    {
        var next = trainer.Describe() with
        {
            Config = cfg,
            ItemKeys = keys.ToArray(),
            Dataset = header.Dataset,
            Epoch = header.Epoch,
            Metrics = header.Metrics,
            Stream = state,
        };
        trainer.SaveState(next, _run.Checkpoint);
        return next;
    }

    /// <summary>Writes the model into the publish folder as <c>model-WATERMARK.ckpt</c> (atomically) and removes
    /// the oldest beyond <see cref="IncrementalOptions.KeepPublished"/>.</summary>
    private string? Publish(Trainer trainer, Checkpoint header)
    {
        if (options.PublishDirectory is not { } dir) return null;
        var path = PublishFolder.PathOf(dir, header.Stream!.Watermark);
        header.Save(path, trainer.Model);
        foreach (var old in PublishFolder.Models(dir).SkipLast(options.KeepPublished)) File.Delete(old);
        Notes?.Report($"published {path}");
        return path;
    }

    /// <summary>A crash between the checkpoint and the publish leaves the folder behind: publish the run's model.
    /// </summary>
    private string? CatchUpPublish(Trainer trainer, Checkpoint header, StreamState state)
    {
        if (options.PublishDirectory is not { } dir || state.Updates == 0) return null;
        if (File.Exists(PublishFolder.PathOf(dir, state.Watermark))) return null;
        return Publish(trainer, header);
    }

    private static IncrementalReport Report(string source, StreamState state, long from, int events,
        Checkpoint header, Trainer trainer, Stopwatch clock, List<string>? keys = null)
    {
        long rows = trainer.Model.ItemTableSize;
        return new IncrementalReport
        {
            Source = source,
            From = from,
            To = from,
            Events = events,
            Items = keys?.Count ?? header.ItemKeys?.Count ?? 0,
            TableRows = rows,
            TableBytes = rows * header.Config.Model.EmbeddingDim * sizeof(float) * 3,
            Seconds = clock.Elapsed.TotalSeconds,
        };
    }
}
