using Microsoft.Extensions.Logging;

namespace GenRec.Serving;

/// <summary>
/// <c>genrec serve --watch DIR</c>: polls a publish folder (written by <c>genrec train --resume RUN --events …
/// --publish DIR</c>) and serves its newest model. A model is swapped in only after it loaded completely (checksum,
/// id map checked against the data, item index built); one that fails is logged once, counted, and skipped until a
/// newer one appears, while the model in use keeps serving.
/// </summary>
internal sealed class ModelWatcher : IDisposable
{
    private readonly ServingOptions _options;
    private readonly EngineSlot _slot;
    private readonly ServiceMetrics _metrics;
    private readonly ILogger _log;
    private readonly Timer _timer;
    private string? _failed;
    private int _busy;

    public ModelWatcher(ServingOptions options, EngineSlot slot, ServiceMetrics metrics, ILogger log)
    {
        _options = options;
        _slot = slot;
        _metrics = metrics;
        _log = log;
        var every = TimeSpan.FromSeconds(options.WatchIntervalSeconds);
        _timer = new Timer(_ => Tick(), null, every, every);
    }

    /// <summary>One look at the folder; nothing escapes (an exception on a timer thread would end the process).
    /// </summary>
    private void Tick()
    {
        try { Check(); }
        catch (Exception e)
        {
            _log.LogError("watch: looking at {Folder} failed ({Reason}); still serving {Current}", _options.Watch,
                e.Message, _slot.Current.Version);
        }
    }

    /// <summary>Loads the newest model if it is not the one in use; returns whether it swapped one in.</summary>
    public bool Check()
    {
        if (Interlocked.Exchange(ref _busy, 1) == 1) return false;
        try
        {
            if (Model.PublishFolder.Newest(_options.Watch!) is not { } newest) return false;
            if (Path.GetFullPath(newest) == Path.GetFullPath(_slot.Current.RetrievalPath) || newest == _failed)
                return false;
            RecommenderEngine next;
            // The lease keeps the model in use (and its index, which an HNSW reload starts from) alive meanwhile.
            using var current = _slot.Acquire();
            try
            {
                next = RecommenderEngine.Load(_options.Data, newest, _options.Ranking,
                    Native.TorchRuntime.ParseDevice(_options.Device), _options.Index, current.Engine);
            }
            // Any failure, expected (damaged, foreign data) or not: a timer callback that throws would end the process,
            // and the model in use must keep serving.
            catch (Exception e)
            {
                _failed = newest;
                _metrics.Reload(ok: false);
                _log.LogError("watch: {Model} could not be loaded ({Reason}); still serving {Current}", newest,
                    e.Message, _slot.Current.Version);
                return false;
            }
            _slot.Swap(next);
            _metrics.Reload(ok: true);
            _log.LogInformation("watch: now serving {Model} ({Items} items, watermark {Watermark}); index {Index}",
                next.Version, next.Items.Count, next.Watermark, next.Pipeline.IndexBuild);
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    public void Dispose() => _timer.Dispose();
}
