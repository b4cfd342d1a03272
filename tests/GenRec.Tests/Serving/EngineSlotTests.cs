namespace GenRec.Tests.Serving;

public class EngineSlotTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task ARetiredEngineIsDisposedOnlyWhenItsLastRequestEnds()
    {
        var first = GenRec.Serving.RecommenderEngine.Load(service.Options.Data, service.Options.Retrieval, service.Options.Ranking, TorchSharp.torch.CPU);
        var second = GenRec.Serving.RecommenderEngine.Load(service.Options.Data, service.Options.Retrieval, service.Options.Ranking, TorchSharp.torch.CPU);
        var slot = new GenRec.Serving.EngineSlot(first);
        var lease = slot.Acquire();
        slot.Swap(second);
        // The request that leased the first engine can still use it after the swap.
        var history = await lease.Engine.HistoryAsync("3", new NoStore(), default);
        Assert.NotEmpty(lease.Engine.Retrieve(history, 3, true));
        using (var next = slot.Acquire()) Assert.Same(second, next.Engine);
        Assert.False(first.IsDisposed);
        lease.Dispose();
        Assert.True(first.IsDisposed);
        Assert.False(second.IsDisposed);
        second.Dispose();
        second.Dispose();   // idempotent
    }

    private sealed class NoStore : GenRec.Serving.Stores.IHistoryStore
    {
        public string Describe => "none";
        public Task<int> AppendAsync(string user, IReadOnlyList<GenRec.Serving.Stores.StoredEvent> events, CancellationToken cancel = default) => Task.FromResult(events.Count);
        public Task<IReadOnlyList<GenRec.Serving.Stores.StoredEvent>> ReadAsync(string user, int max, CancellationToken cancel = default) => Task.FromResult<IReadOnlyList<GenRec.Serving.Stores.StoredEvent>>([]);
        public Task<IReadOnlyList<GenRec.Data.LoggedEvent>> ReadLogAsync(long after, int max,
            CancellationToken cancel = default) => Task.FromResult<IReadOnlyList<GenRec.Data.LoggedEvent>>([]);
        public Task<bool> PingAsync(CancellationToken cancel = default) => Task.FromResult(true);
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
