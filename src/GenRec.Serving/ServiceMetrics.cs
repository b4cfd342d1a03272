using Prometheus;

namespace GenRec.Serving;

/// <summary>
/// The service's Prometheus metrics at <c>GET /metrics</c>, kept by prometheus-net in a registry of this service's
/// own (two services in one process count apart). Requests are counted by prometheus-net's HTTP middleware from the
/// status the server really sent (<c>http_requests_received_total{code, method, endpoint}</c>,
/// <c>http_request_duration_seconds</c>, <c>http_requests_in_progress</c>); process and .NET runtime figures come from
/// its <see cref="DotNetStats"/> (<c>process_working_set_bytes</c>, <c>dotnet_total_memory_bytes</c>, …). GenRec adds
/// the answers that fell back to popularity and which models and store are in use.
/// </summary>
public sealed class ServiceMetrics
{
    private readonly Counter _coldStarts;
    private readonly Gauge _modelInfo;
    private readonly Gauge _modelLoaded;
    private readonly Counter _serverErrors;
    private readonly Gauge _modelAge;
    private readonly Gauge _watermark;
    private readonly Gauge _items;
    private readonly Counter _reloads;
    private readonly string _store;
    private string? _shownVersion;

    /// <summary>Creates the registry; <paramref name="model"/> is asked for the models in use at each scrape.</summary>
    public ServiceMetrics(Func<RecommenderEngine> model, string store)
    {
        _store = store;
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        Factory = Metrics.WithCustomRegistry(Registry);
        _coldStarts = Factory.CreateCounter("genrec_cold_starts_total",
            "Answers that fell back to popularity (no usable history).");
        _serverErrors = Factory.CreateCounter("genrec_server_errors_total",
            "Requests that failed inside the service (answered 500 and logged with their request id).");
        _modelInfo = Factory.CreateGauge("genrec_model_info", "The loaded models and the store.", ["version", "store"]);
        _modelLoaded = Factory.CreateGauge("genrec_model_loaded_timestamp_seconds",
            "When the models in use were loaded (Unix seconds).");
        _modelAge = Factory.CreateGauge("genrec_model_age_seconds",
            "Seconds since the retrieval model in use was written (trained or published): alert when it stops "
            + "falling, the model has stopped updating.");
        _watermark = Factory.CreateGauge("genrec_model_watermark",
            "The last event of the log the model in use was trained on (incremental training; 0 without).");
        _items = Factory.CreateGauge("genrec_model_items", "Items the model in use can retrieve.");
        _reloads = Factory.CreateCounter("genrec_reloads_total",
            "Models loaded by serve --watch, by outcome (ok, failed: the model in use kept serving).", ["outcome"]);
        Registry.AddBeforeCollectCallback(() =>
        {
            var engine = model();
            var (version, loadedAt) = (engine.Version, engine.LoadedAt);
            _modelAge.Set((DateTimeOffset.UtcNow - engine.WrittenAt).TotalSeconds);
            _watermark.Set(engine.Watermark ?? 0);
            _items.Set(engine.Items.Count);
            if (_shownVersion is { } old && old != version) _modelInfo.WithLabels(old, _store).Remove();
            _modelInfo.WithLabels(version, _store).Set(1);
            _shownVersion = version;
            _modelLoaded.Set(loadedAt.ToUnixTimeMilliseconds() / 1000.0);
        });
    }

    /// <summary>This service's registry, exported at <c>/metrics</c>.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Creates metrics in <see cref="Registry"/> (the HTTP middleware's too).</summary>
    public IMetricFactory Factory { get; }

    /// <summary>Counts an answer that fell back to popularity.</summary>
    public void ColdStart() => _coldStarts.Inc();

    /// <summary>Counts a model load by serve --watch.</summary>
    public void Reload(bool ok) => _reloads.WithLabels(ok ? "ok" : "failed").Inc();

    /// <summary>Counts a request that failed inside the service.</summary>
    public void ServerError() => _serverErrors.Inc();
}
