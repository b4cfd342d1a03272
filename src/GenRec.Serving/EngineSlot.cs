namespace GenRec.Serving;

/// <summary>
/// The engine in use. A reload builds the new engine first, then swaps the reference: requests already running
/// finish on the old one, which is disposed after a grace period, so no request is dropped.
/// </summary>
internal sealed class EngineSlot(RecommenderEngine engine)
{
    private RecommenderEngine _engine = engine;

    public RecommenderEngine Engine => Volatile.Read(ref _engine);

    public void Swap(RecommenderEngine next, TimeSpan grace)
    {
        var old = Interlocked.Exchange(ref _engine, next);
        _ = Task.Delay(grace).ContinueWith(_ => old.Dispose(), TaskScheduler.Default);
    }
}
