using System.Text.Json;
using GenRec.Data;
using GenRec.Model;
using GenRec.Serving;
using GenRec.Serving.Stores;
using GenRec.Training;
using Microsoft.AspNetCore.Builder;
using static TorchSharp.torch;

namespace GenRec.Tests.Serving;

/// <summary>
/// The freshness loop, end to end: events for items the model never saw are posted to the service, incremental
/// training reads them back from the service's store and publishes a model, the service (serve --watch) loads it, and
/// those items are now retrieved for users whose histories lead to them.
/// </summary>
public class FreshnessEndToEndTests
{
    private static readonly RatingsLog Log = SyntheticData.Generate(new SyntheticOptions
    {
        Users = 200,
        Items = 60,
        Interests = 4,
        MinLength = 8,
        MaxLength = 24,
        Seed = 5,
    });

    private static ExperimentConfig Config() => new()
    {
        Model = new ModelConfig
        {
            EmbeddingDim = 16,
            NumLayers = 1,
            NumHeads = 1,
            QkDim = 8,
            VDim = 8,
            MaxLength = 20,
            Dropout = 0.1,
        },
        Training = new TrainingConfig
        {
            Epochs = 4,
            BatchSize = 32,
            NumNegatives = 16,
            LearningRate = 0.01,
            EvalEvery = 0,
            Seed = 3,
        },
    };

    /// <summary>The new items come in a chain: whoever views the trigger item then views fresh-0, fresh-1, ….
    /// </summary>
    private static readonly string[] Fresh = ["fresh-0", "fresh-1", "fresh-2", "fresh-3"];

    [Fact]
    public async Task ItemsFirstPostedToTheServiceAreRecommendedAfterTheUpdateIsPublished()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "ratings.csv");
        TestData.WriteRatingsCsv(Log, csv);
        using var data = DataSource.Open(csv);
        var run = Path.Combine(dir.Path, "run");
        using (var trainer = new Trainer(Config(), data, CPU) { RunDirectory = run }) trainer.Run();
        var publish = Directory.CreateDirectory(Path.Combine(dir.Path, "published")).FullName;
        var options = new ServingOptions
        {
            Data = csv,
            Retrieval = Path.Combine(run, "checkpoint.ckpt"),
            Watch = publish,
            WatchIntervalSeconds = 0.2,
            Store = "sqlite:" + Path.Combine(dir.Path, "events.db"),
            Urls = "http://127.0.0.1:0",
            Index = "hnsw",
        };
        var (app, client, engine, store) = await ServiceFixture.StartAsync(options);
        try
        {
            string trigger = data.ItemKeys[0];
            long now = Log.Events.Max(e => e.Timestamp);
            // 150 users follow the chain; each event with an id, as a client that retries would send it.
            for (int u = 0; u < 150; u++)
            {
                var chain = new[] { trigger }.Concat(Fresh).Select((item, i) => new
                {
                    item,
                    timestamp = now + 60 * (5 * u + i + 1),
                    id = $"{u}-{i}",
                });
                var posted = await ServiceFixture.PostOkAsync(client, "/v1/events",
                    new { user = data.UserKey(u), events = chain });
                var unknown = posted.GetProperty("unknownItems").EnumerateArray().Select(x => x.GetString());
                Assert.Contains("fresh-0", unknown);
            }
            // The other 50 have just entered the chain: trigger, then fresh-0.
            for (int u = 150; u < 200; u++)
                await ServiceFixture.PostOkAsync(client, "/v1/events", new
                {
                    user = data.UserKey(u),
                    events = new[]
                    {
                        new { item = trigger, timestamp = now + 100_000 },
                        new { item = "fresh-0", timestamp = now + 100_060 },
                    },
                });
            // Before the update: the fresh items cannot be retrieved for anyone.
            Assert.Equal(0, await FreshHitsAsync(client, data, "fresh-1"));

            // Incremental training reads the store's log, trains one update and publishes it.
            var log = await store.ReadLogAsync(0, 100_000);
            var report = new IncrementalTraining(run, data, CPU, new IncrementalOptions
            {
                Passes = 3,
                PublishDirectory = publish,
            }).Run(log, store.Describe);
            Assert.Equal(4, report.ItemsAdmitted);
            Assert.Equal(150 * 5 + 50 * 2, report.Events);
            Assert.NotNull(report.Published);

            // The service loads the published model by itself.
            JsonElement health = default;
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(60);)
            {
                health = JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement.Clone();
                if (health.GetProperty("watermark").ValueKind == JsonValueKind.Number
                    && health.GetProperty("watermark").GetInt64() == report.To) break;
                await Task.Delay(100);
            }
            Assert.Equal(report.To, health.GetProperty("watermark").GetInt64());
            Assert.Equal(4, health.GetProperty("itemsAdded").GetInt32());
            // The HNSW graph of the previous model was extended: the 4 new items added, not a new graph built.
            Assert.Matches("^hnsw from the previous graph .* 4 added$", health.GetProperty("index").GetString());
            Assert.True(health.GetProperty("modelAgeSeconds").GetDouble() < 60);
            var metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("genrec_reloads_total{outcome=\"ok\"} 1", metrics);
            Assert.Matches($"genrec_model_watermark {report.To}\\b", metrics);

            // Users of the other 50 whose history now leads into the chain (trigger, fresh-0) get fresh-1.
            int hits = await FreshHitsAsync(client, data, "fresh-1");
            Assert.True(hits >= 40, $"fresh-1 is in the top 10 of only {hits} of 50 users after the update");
        }
        finally
        {
            await StopAsync(app, client, engine, store);
        }
    }

    [Fact]
    public async Task ADamagedPublishedModelIsSkippedAndTheModelInUseKeepsServing()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "ratings.csv");
        TestData.WriteRatingsCsv(Log, csv);
        using var data = DataSource.Open(csv);
        var model = Path.Combine(dir.Path, "model.ckpt");
        using (var trainer = new Trainer(Config() with { Training = Config().Training with { Epochs = 1 } }, data, CPU))
        {
            trainer.Run();
            trainer.Save(model);
        }
        var publish = Directory.CreateDirectory(Path.Combine(dir.Path, "published")).FullName;
        var (app, client, engine, store) = await ServiceFixture.StartAsync(new ServingOptions
        {
            Data = csv,
            Retrieval = model,
            Watch = publish,
            WatchIntervalSeconds = 0.2,
            Store = "sqlite:" + Path.Combine(dir.Path, "events.db"),
            Urls = "http://127.0.0.1:0",
        });
        try
        {
            var bytes = File.ReadAllBytes(model);
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(PublishFolder.PathOf(publish, 42), bytes);
            string metrics = "";
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(30);)
            {
                metrics = await client.GetStringAsync("/metrics");
                if (metrics.Contains("genrec_reloads_total{outcome=\"failed\"} 1")) break;
                await Task.Delay(100);
            }
            Assert.Contains("genrec_reloads_total{outcome=\"failed\"} 1", metrics);
            var health = JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement;
            Assert.StartsWith("model.ckpt@", health.GetProperty("models").GetString());
            await ServiceFixture.PostOkAsync(client, "/v1/retrieve", new { user = data.UserKey(3), k = 5 });
        }
        finally
        {
            await StopAsync(app, client, engine, store);
        }
    }

    private static async Task StopAsync(WebApplication app, HttpClient client, RecommenderEngine engine,
        IHistoryStore store)
    {
        client.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        await store.DisposeAsync();
        engine.Dispose();
    }

    /// <summary>How many of users 150…199, their history (the dataset's, then the store's) ending in (trigger,
    /// fresh-0), get <paramref name="want"/> in their top 10.</summary>
    private static async Task<int> FreshHitsAsync(HttpClient client, GenRec.Data.Features.PreparedDataset data,
        string want)
    {
        int hits = 0;
        for (int u = 150; u < 200; u++)
        {
            var answer = await ServiceFixture.PostOkAsync(client, "/v1/retrieve",
                new { user = data.UserKey(u), k = 10 });
            if (answer.GetProperty("items").EnumerateArray().Any(x => x.GetProperty("item").GetString() == want))
                hits++;
        }
        return hits;
    }
}
