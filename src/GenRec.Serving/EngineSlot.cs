namespace GenRec.Serving;

/// <summary>
/// The engine in use. Each request leases the current engine; a reload swaps in a new one, and the old engine is
/// disposed when its last lease ends — so no request is dropped and none runs on disposed models.
/// </summary>
internal sealed class EngineSlot(RecommenderEngine engine)
{
    private Held _held = new(engine);

    private sealed class Held(RecommenderEngine engine)
    {
        public readonly RecommenderEngine Engine = engine;
        public int Users;
        public volatile bool Retired;
        private int _disposed;

        public void DisposeOnce()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) Engine.Dispose();
        }
    }

    /// <summary>A lease on the current engine; dispose it when the request is done.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly Held _held;

        internal Lease(object held) => _held = (Held)held;

        public RecommenderEngine Engine => _held.Engine;

        public void Dispose()
        {
            if (Interlocked.Decrement(ref _held.Users) == 0 && _held.Retired) _held.DisposeOnce();
        }
    }

    /// <summary>Leases the current engine.</summary>
    public Lease Acquire()
    {
        while (true)
        {
            var h = Volatile.Read(ref _held);
            Interlocked.Increment(ref h.Users);
            if (ReferenceEquals(h, Volatile.Read(ref _held))) return new Lease(h);
            new Lease(h).Dispose();   // swapped meanwhile: let go and lease the new one
        }
    }

    /// <summary>Swaps in <paramref name="next"/>; the old engine goes when its last lease ends.</summary>
    public void Swap(RecommenderEngine next)
    {
        var old = Interlocked.Exchange(ref _held, new Held(next));
        old.Retired = true;
        if (Volatile.Read(ref old.Users) == 0) old.DisposeOnce();
    }

    /// <summary>The current engine, for reads that touch no tensors (health, metrics).</summary>
    public RecommenderEngine Current => Volatile.Read(ref _held).Engine;
}
