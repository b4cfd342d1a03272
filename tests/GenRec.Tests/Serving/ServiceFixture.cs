using System.Net.Http.Json;
using System.Text.Json;
using GenRec.Data;
using GenRec.Model;
using GenRec.Serving;
using GenRec.Serving.Stores;
using GenRec.Tests.Training;
using GenRec.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static TorchSharp.torch;

namespace GenRec.Tests.Serving;

/// <summary>
/// One running service for the serving tests: a generated taste log, a small retrieval checkpoint, a ranking
/// checkpoint trained for one epoch, a SQLite store in a temporary folder, Kestrel on a free loopback port.
/// </summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private WebApplication? _app;
    private IHistoryStore? _store;
    private RecommenderEngine? _engine;

    public HttpClient Client { get; private set; } = null!;

    public ServingOptions Options { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        string prepared;
        using (var data = RankingTrainerTests.TasteLog(_dir))
        {
            prepared = Path.Combine(_dir.Path, "p");
            var cfg = new ExperimentConfig
            {
                Model = new ModelConfig { EmbeddingDim = 16, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 60, Dropout = 0.1 },
                Training = new TrainingConfig { Epochs = 1, BatchSize = 32, LearningRate = 0.01, Seed = 3, EvalEvery = 0 },
                Ranking = new RankingConfig { Variant = "interleaved", HistoryItems = 25, HeadHidden = 8, MicroBatch = 4 },
            };
            manual_seed(3);
            var features = data.Features.Select(cfg.Features);
            using (var retrieval = SequenceEncoder.Create(cfg.Model, data.ItemTableSize, features))
                new Checkpoint { Config = cfg, ItemTableSize = data.ItemTableSize, Features = features, Dataset = data.Name, ItemKeys = data.ItemKeys }.Save(Path.Combine(_dir.Path, "retrieval.ckpt"), retrieval);
            var split = RankingSplit.Create(data, 25, 10, 1);
            using var trainer = new RankingTrainer(cfg, data, split, CPU);
            trainer.Run();
            trainer.Save(Path.Combine(_dir.Path, "ranking.ckpt"), data, 1, null);
        }
        Options = new ServingOptions
        {
            Data = prepared,
            Retrieval = Path.Combine(_dir.Path, "retrieval.ckpt"),
            Ranking = Path.Combine(_dir.Path, "ranking.ckpt"),
            Store = "sqlite:" + Path.Combine(_dir.Path, "events.db"),
            Urls = "http://127.0.0.1:0",
            MaxCandidates = 50,
            MaxEvents = 20,
            MaxK = 100,
            MaxBodyBytes = 64 * 1024,
        };
        (_app, Client, _engine, _store) = await StartAsync(Options);
    }

    /// <summary>
    /// Starts one more service over the same data and checkpoints (a second replica, or another store); with
    /// <paramref name="store"/> it serves from that store instead of the one the options name.
    /// </summary>
    public static async Task<(WebApplication App, HttpClient Client, RecommenderEngine Engine, IHistoryStore Store)> StartAsync(
        ServingOptions options, IHistoryStore? store = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        var engine = RecommenderEngine.Load(options.Data, options.Retrieval, options.Ranking, CPU, options.Index);
        store ??= await HistoryStores.OpenAsync(options.Store);
        var app = ServiceHost.Build(options, engine, store, logs);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new HttpClient { BaseAddress = new Uri(address) }, engine, store);
    }

    public static async Task StopAsync((WebApplication App, HttpClient Client, RecommenderEngine Engine, IHistoryStore Store) s)
    {
        s.Client.Dispose();
        await s.App.StopAsync();
        await s.App.DisposeAsync();
        await s.Store.DisposeAsync();
        s.Engine.Dispose();
    }

    public static async Task<JsonElement> PostOkAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public Task<JsonElement> PostOkAsync(string path, object body) => PostOkAsync(Client, path, body);

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null) { await _app.StopAsync(); await _app.DisposeAsync(); }
        if (_store is not null) await _store.DisposeAsync();
        _engine?.Dispose();
        _dir.Dispose();
    }
}
