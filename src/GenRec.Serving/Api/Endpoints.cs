using GenRec.Serving.Stores;
using Microsoft.AspNetCore.Http;

namespace GenRec.Serving.Api;

/// <summary>The handlers behind the routes; each validates its request and answers 4xx with the field's name.</summary>
internal sealed class Endpoints(ServingOptions options, EngineSlot slot, IHistoryStore store, ServiceMetrics metrics)
{
    public async Task<IResult> HealthAsync(CancellationToken cancel)
    {
        bool storeOk = await store.PingAsync(cancel);
        var e = slot.Current;
        var body = new
        {
            status = storeOk ? "ok" : "store unavailable",
            models = e.Version,
            store = store.Describe,
            items = e.Index.Count,
            itemsAdded = e.Items.Added,
            index = e.Pipeline.IndexBuild,
            ranking = e.CanRank,
            modelWrittenAt = e.WrittenAt,
            modelAgeSeconds = Math.Round((DateTimeOffset.UtcNow - e.WrittenAt).TotalSeconds, 1),
            watermark = e.Watermark,
            watching = options.Watch,
        };
        return storeOk ? Results.Ok(body) : Results.Json(body, statusCode: 503);
    }

    public async Task<IResult> EventsAsync(EventsRequest? request, CancellationToken cancel)
    {
        if (request is null) throw new ApiException(400, "expected a JSON body {\"user\": …, \"events\": [...]}.");
        string user = RequireUser(request.User);
        var events = ParseEvents(request.Events, "events") ?? throw new ApiException(400, "events: required, a non-empty array of {item, action, timestamp}.");
        using var lease = slot.Acquire();
        var engine = lease.Engine;
        var unknownFeatures = CheckNames(engine, events, "events");
        int stored = await store.AppendAsync(user, events, cancel);
        var unknown = events.Where(e => e.Item is not null && engine.Items.Id(e.Item) is null).Select(e => e.Item!).Distinct().ToList();
        // "duplicates": events whose id the history already held (a retried request), not stored again.
        return Results.Ok(new
        {
            user,
            appended = stored,
            duplicates = events.Count - stored,
            unknownItems = unknown,
            unknownFeatures = unknownFeatures.Distinct(),
        });
    }

    public async Task<IResult> HistoryAsync(UserRequest? request, CancellationToken cancel)
    {
        if (request is null) throw new ApiException(400, "expected a JSON body {\"user\": …}.");
        string user = RequireUser(request.User);
        int k = Limit(request.K, 20, "k", options.MaxK);
        using var lease = slot.Acquire();
        var engine = lease.Engine;
        var history = await engine.HistoryAsync(user, store, cancel);
        var items = new List<object>();
        if (history.Tokens is { } h)
            for (int i = h.History.Length - 1; i >= 0 && items.Count < k; i--)
            {
                if ((h.HistoryKinds?[i] ?? 0) != 0) continue;
                int a = h.HistoryActions?[i] ?? 0;
                items.Add(new { item = engine.Items.Key(h.History[i]), title = engine.Items.Describe(h.History[i]), action = a > 0 ? engine.Data.Features.Actions[a - 1] : null, timestamp = h.HistoryTimestamps[i] });
            }
        return Results.Ok(new { user, known = !history.IsColdStart, items, unknownItems = history.UnknownItems });
    }

    public async Task<IResult> RetrieveAsync(UserRequest? request, CancellationToken cancel)
    {
        using var lease = slot.Acquire();
        var engine = lease.Engine;
        var history = await HistoryAsync(engine, request, cancel);
        int k = Limit(request!.K, 10, "k", options.MaxK);
        var items = engine.Retrieve(history, k, excludeSeen: request.IncludeSeen != true);
        if (history.IsColdStart) metrics.ColdStart();
        return Results.Ok(new
        {
            user = request.User,
            coldStart = history.IsColdStart,
            items = items.Select((x, n) => new { rank = n + 1, item = engine.Items.Key(x.Item), title = engine.Items.Describe(x.Item), score = x.Score }),
            unknownItems = history.UnknownItems,
            unknownFeatures = history.UnknownFeatures,
        });
    }

    public async Task<IResult> RankAsync(UserRequest? request, CancellationToken cancel)
    {
        using var lease = slot.Acquire();
        var engine = lease.Engine;
        if (!engine.CanRank) throw new ApiException(409, "no ranking model is loaded; start the service with --ranking CKPT.");
        CheckUserOrHistory(request);
        if (request!.Candidates is not { Count: > 0 } keys) throw new ApiException(400, "candidates: required, a non-empty array of item ids.");
        if (keys.Count > options.MaxCandidates) throw new ApiException(400, $"candidates: {keys.Count} given; at most {options.MaxCandidates} per request.");
        SortTask(engine, request.SortBy);
        var unknown = new List<string>();
        var ids = new List<long>();
        foreach (var key in keys)
        {
            if (string.IsNullOrEmpty(key)) throw new ApiException(400, "candidates: an item id is empty.");
            if (engine.Items.Id(key) is long id) ids.Add(id); else unknown.Add(key);
        }
        var (ranked, coldStart) = await ScoreAsync(engine, request, ids.ToArray(), cancel);
        return Results.Ok(new { user = request.User, coldStart, tasks = engine.Tasks.Select(t => t.Name), sortedBy = engine.Tasks[SortTask(engine, request.SortBy)].Name, items = ranked, unknownItems = unknown });
    }

    public async Task<IResult> RecommendAsync(UserRequest? request, CancellationToken cancel)
    {
        using var lease = slot.Acquire();
        var engine = lease.Engine;
        var history = await HistoryAsync(engine, request, cancel);
        int k = Limit(request!.K, 10, "k", options.MaxK);
        int depth = Limit(request.Retrieve, Math.Max(100, k), "retrieve", options.MaxK);
        if (depth < k) throw new ApiException(400, $"retrieve: {depth} is less than k = {k}.");
        if (engine.CanRank) SortTask(engine, request.SortBy);
        var retrieved = engine.Retrieve(history, depth, excludeSeen: request.IncludeSeen != true);
        if (history.IsColdStart) metrics.ColdStart();
        if (!engine.CanRank || history.IsColdStart)
            return Results.Ok(new
            {
                user = request.User,
                coldStart = history.IsColdStart,
                ranked = false,
                items = retrieved.Take(k).Select((x, n) => new { rank = n + 1, item = engine.Items.Key(x.Item), title = engine.Items.Describe(x.Item), retrievalScore = x.Score }),
                unknownItems = history.UnknownItems,
            });
        var (ranked, coldStart) = await ScoreAsync(engine, request, retrieved.Select(r => r.Item).ToArray(), cancel, retrieved.ToDictionary(r => r.Item, r => r.Score));
        return Results.Ok(new { user = request.User, coldStart, ranked = true, tasks = engine.Tasks.Select(t => t.Name), sortedBy = engine.Tasks[SortTask(engine, request.SortBy)].Name, items = ranked.Take(k), unknownItems = history.UnknownItems });
    }

    public async Task<IResult> ReloadAsync(HttpContext ctx)
    {
        if (!ServiceHost.IsLoopback(ctx)) throw new ApiException(403, "/admin/reload answers only requests from this machine.");
        RecommenderEngine next;
        // A model that fails to load leaves the current one serving: the swap happens only after a complete load.
        // With --watch, the newest published model; else the checkpoint the service was started with.
        var retrieval = options.Watch is { } dir
            ? GenRec.Model.PublishFolder.Newest(dir) ?? options.Retrieval
            : options.Retrieval;
        try { next = await Task.Run(() => RecommenderEngine.Load(options.Data, retrieval, options.Ranking, TorchRuntimeDevice(), options.Index)); }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or InvalidOperationException or GenRec.Data.DataLoadException)
        {
            return Results.Json(new ErrorBody($"reload failed, still serving {slot.Current.Version}: {e.Message}")
            {
                RequestId = ctx.TraceIdentifier,
            }, statusCode: 500);
        }
        slot.Swap(next);
        return Results.Ok(new { reloaded = next.Version });
    }

    private TorchSharp.torch.Device TorchRuntimeDevice() => GenRec.Native.TorchRuntime.ParseDevice(options.Device);

    private async Task<(List<RankedItem> Items, bool ColdStart)> ScoreAsync(RecommenderEngine engine, UserRequest request, long[] ids, CancellationToken cancel, Dictionary<long, float>? retrieval = null)
    {
        if (ids.Length == 0) return ([], false);
        var inline = request.User is null ? ParseEvents(request.History, "history")! : [];
        CheckNames(engine, inline, "history");
        int sortTask = SortTask(engine, request.SortBy);
        var ranked = await engine.RankAsync(request.User, inline, store, ids, sortTask, cancel);
        var tasks = engine.Tasks;
        if (ranked is null)
        {
            metrics.ColdStart();
            // No history to read: keep the given (or retrieval) order, without scores.
            return (ids.Select((id, n) => new RankedItem(n + 1, engine.Items.Key(id), engine.Items.Describe(id), null, retrieval?[id])).ToList(), true);
        }
        return (ranked.Select((c, n) => new RankedItem(n + 1, engine.Items.Key(c.Item), engine.Items.Describe(c.Item),
            c.Scores.Length == 0
                ? null
                : Enumerable.Range(0, tasks.Count).ToDictionary(t => tasks[t].Name, t => c.Scores[t]),
            retrieval?[c.Item])).ToList(), false);
    }

    private static int SortTask(RecommenderEngine engine, string? sortBy)
    {
        int i = engine.Pipeline.SortTask(sortBy);
        if (i < 0) throw new ApiException(400, $"sortBy: '{sortBy}' is not a task of the ranking model; expected one of {string.Join(", ", engine.Tasks.Select(t => t.Name))}.");
        return i;
    }

    private async Task<UserHistory> HistoryAsync(RecommenderEngine engine, UserRequest? request, CancellationToken cancel)
    {
        CheckUserOrHistory(request);
        if (request!.User is { } user) return await engine.HistoryAsync(user, store, cancel);
        var inline = ParseEvents(request.History, "history")!;
        CheckNames(engine, inline, "history");
        return engine.Inline(inline);
    }

    private static void CheckUserOrHistory(UserRequest? request)
    {
        if (request is null) throw new ApiException(400, "expected a JSON body with \"user\" or \"history\".");
        if ((request.User is null) == (request.History is null)) throw new ApiException(400, "give exactly one of user and history.");
        if (request.User is not null) RequireUser(request.User);
    }

    private static string RequireUser(string? user)
    {
        if (string.IsNullOrWhiteSpace(user)) throw new ApiException(400, "user: required, a non-empty string.");
        if (user.Length > MaxIdLength) throw new ApiException(400, $"user: longer than {MaxIdLength} characters.");
        return user;
    }

    /// <summary>
    /// The one check of action and feature names, for appended events and inline histories alike: an action or a
    /// feature the model's data does not have is refused naming the field; feature values it has not seen are
    /// returned (they embed as unknown).
    /// </summary>
    private static List<string> CheckNames(RecommenderEngine engine, List<StoredEvent> events, string field)
    {
        var kinds = engine.Data.Features.TokenKinds;
        var unknownFeatures = new List<string>();
        foreach (var (ev, i) in events.Select((ev, i) => (ev, i)))
        {
            if (ev.Action is not null && !engine.Data.Features.Actions.Contains(ev.Action))
                throw new ApiException(400, $"{field}[{i}].action: '{ev.Action}' is not an action of {engine.Data.Name}; "
                    + $"expected one of {string.Join(", ", engine.Data.Features.Actions)}.");
            if (ev.Action is not null && ev.Item is null)
                throw new ApiException(400, $"{field}[{i}].action: an action needs the item it is on.");
            foreach (var (name, value) in ev.Features ?? new Dictionary<string, string>())
            {
                int k = kinds.ToList().FindIndex(t => t.Name == name && t.Role is "contextual" or "auxiliary");
                if (k < 0)
                {
                    var known = kinds.Where(t => t.Role is "contextual" or "auxiliary").Select(t => t.Name);
                    throw new ApiException(400, $"{field}[{i}].features.{name}: not a contextual or auxiliary feature "
                        + $"of {engine.Data.Name}; expected one of {string.Join(", ", known.DefaultIfEmpty("(none)"))}.");
                }
                if (engine.Data.FeatureValueId(k, value) is null) unknownFeatures.Add($"{name}={value}");
            }
        }
        return unknownFeatures;
    }

    /// <summary>The longest user id, item id, action, feature name or value a request may carry.</summary>
    public const int MaxIdLength = 256;

    /// <summary>The most feature values one event may carry.</summary>
    public const int MaxFeaturesPerEvent = 64;

    private List<StoredEvent>? ParseEvents(List<EventDto>? events, string field)
    {
        if (events is null) return null;
        if (events.Count == 0) throw new ApiException(400, $"{field}: empty; expected at least one event.");
        if (events.Count > options.MaxEvents) throw new ApiException(400, $"{field}: {events.Count} events; at most {options.MaxEvents} per request.");
        var list = new List<StoredEvent>(events.Count);
        for (int i = 0; i < events.Count; i++)
        {
            var e = events[i] ?? throw new ApiException(400, $"{field}[{i}]: null; expected {{item, action, features, timestamp}}.");
            bool hasFeatures = e.Features is { Count: > 0 };
            if (e.Item is null && !hasFeatures) throw new ApiException(400, $"{field}[{i}].item: required unless the event carries features.");
            if (e.Item is { Length: 0 }) throw new ApiException(400, $"{field}[{i}].item: empty.");
            if (e.Item is { Length: > MaxIdLength })
                throw new ApiException(400, $"{field}[{i}].item: longer than {MaxIdLength} characters.");
            if (e.Action is { Length: > MaxIdLength })
                throw new ApiException(400, $"{field}[{i}].action: longer than {MaxIdLength} characters.");
            if (e.Features is { Count: > MaxFeaturesPerEvent })
                throw new ApiException(400, $"{field}[{i}].features: {e.Features.Count} values; at most "
                    + $"{MaxFeaturesPerEvent} per event.");
            if (e.Features?.FirstOrDefault(kv => kv.Key.Length > MaxIdLength || kv.Value?.Length > MaxIdLength) is
                { Key: not null } tooLong)
                throw new ApiException(400, $"{field}[{i}].features.{tooLong.Key[..Math.Min(tooLong.Key.Length, 64)]}: "
                    + $"name or value longer than {MaxIdLength} characters.");
            if (e.Features is not null && e.Features.Any(kv => string.IsNullOrEmpty(kv.Value)))
                throw new ApiException(400, $"{field}[{i}].features.{e.Features.First(kv => string.IsNullOrEmpty(kv.Value)).Key}: empty value.");
            if (e.Timestamp is not long t || t < 0) throw new ApiException(400, $"{field}[{i}].timestamp: required, Unix seconds ≥ 0.");
            if (e.Id is { Length: 0 } || e.Id is { Length: > MaxIdLength })
                throw new ApiException(400, $"{field}[{i}].id: expected 1 to {MaxIdLength} characters.");
            list.Add(new StoredEvent(e.Item, e.Action, t, hasFeatures ? e.Features : null, e.Id));
        }
        return list;
    }

    private static int Limit(int? value, int fallback, string field, int max)
    {
        int v = value ?? fallback;
        if (v < 1) throw new ApiException(400, $"{field}: {v}; expected a positive number.");
        if (v > max) throw new ApiException(400, $"{field}: {v}; at most {max}.");
        return v;
    }
}
