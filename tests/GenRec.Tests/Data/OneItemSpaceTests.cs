using System.Text.Json;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using GenRec.Serving;
using GenRec.Serving.Stores;
using static TorchSharp.torch;

namespace GenRec.Tests.Data;

/// <summary>
/// One data pipeline, one item-id space per dataset: every --data form is built by the same builder, checkpoints
/// carry the item ids they were trained with, and no command or service computes with ids that name other items.
/// </summary>
public class OneItemSpaceTests
{
    private static readonly SyntheticOptions Small =
        new() { Users = 60, Items = 40, Interests = 4, MinLength = 5, MaxLength = 15 };

    [Fact]
    public void ARawMovieLensFolderAndTheSameFolderPreparedWithASchemaShareOneItemIdSpace()
    {
        using var dir = new TempDir();
        var log = SyntheticData.Generate(Small);
        // ratings.dat in the log's order (not sorted by time), as MovieLens ships it.
        dir.Write("ratings.dat",
            string.Concat(log.Events.Select(x => $"{x.UserId}::{x.ItemId}::{(int)x.Rating}::{x.Timestamp}\n")));
        dir.Write("users.dat",
            string.Concat(log.Users.Select(u => $"{u.UserId}::{(u.UserId % 2 == 0 ? "F" : "M")}::25::4::0000\n")));
        dir.Write("movies.dat", string.Concat(log.Corpus.Select(i => $"{i}::Movie {i} (2000)::Drama|Comedy\n")));
        var schema = FeatureSchema.Load(Path.Combine(Repository.Root, "configs", "ml-1m", "schema.json"));
        new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "prepared"));

        using var raw = DataSource.Open(dir.Path);
        using var prepared = DataSource.Open(Path.Combine(dir.Path, "prepared"));
        Assert.Equal(prepared.ItemKeys, raw.ItemKeys);
        Assert.Equal(log.Corpus.Length, raw.ItemKeys.Count);
        Assert.Equal("Movie 7 (2000)", raw.Describe(raw.ItemId("7")!.Value));
        // The raw folder is items only (the paper's retrieval setting); the schema adds actions, demographics, genres.
        Assert.True(raw.Features.IsEmpty);
        Assert.False(prepared.Features.IsEmpty);
    }

    [Fact]
    public void ACheckpointRefusesDataWhoseIdsNameOtherItemsAndNamesBoth()
    {
        using var dir = new TempDir();
        using var a = DataSource.FromRatings(new RatingsLog("logA",
            SyntheticData.Generate(Small with { Seed = 1 }).Events));
        using var b = DataSource.FromRatings(new RatingsLog("logB",
            SyntheticData.Generate(Small with { Seed = 2 }).Events));
        // The same size: the old table-size check let this through.
        Assert.Equal(a.ItemKeys.Count, b.ItemKeys.Count);
        var path = Save(dir, a, "a.ckpt");
        var info = Checkpoint.ReadHeader(path);

        info.EnsureFits(path, a);
        var e = Assert.Throws<ArgumentException>(() => info.EnsureFits(path, b));
        Assert.Contains("a.ckpt (trained on logA) and logB number items differently", e.Message);

        var other = Checkpoint.ReadHeader(Save(dir, b, "b.ckpt"));
        ItemIds.EnsureSame("a.ckpt", info.ItemKeys, "a-again.ckpt", info.ItemKeys);
        var pair = Assert.Throws<ArgumentException>(
            () => ItemIds.EnsureSame("a.ckpt", info.ItemKeys, "b.ckpt", other.ItemKeys));
        Assert.Contains("a.ckpt and b.ckpt number items differently", pair.Message);

        var old = Checkpoint.ReadHeader(Save(dir, a, "old.ckpt", keys: false));
        Assert.Contains("did not record its item ids",
            Assert.Throws<ArgumentException>(() => old.EnsureFits("old.ckpt", a)).Message);
    }

    [Fact]
    public async Task TheDemosOutputFolderIsRecommendedAndServedWithTheDemoModelsOwnAnswers()
    {
        using var dir = new TempDir();
        var demo = Json(GenRecCli.Run("demo", "--out", dir.Path, "--epochs", "1", "--threads", "1", "--json"));
        string user = demo.GetProperty("user").GetString()!;
        var want = demo.GetProperty("recommendations").EnumerateArray()
            .Select(r => r.GetProperty("item").GetString()!).ToList();
        var ckpt = Path.Combine(dir.Path, "run", "checkpoint.ckpt");

        var cli = Json(GenRecCli.Run(
            "recommend", "--checkpoint", ckpt, "--data", dir.Path, "--user", user, "--k", "10", "--threads", "1",
            "--json"));
        Assert.Equal(want,
            cli.GetProperty("recommendations").EnumerateArray().Select(r => r.GetProperty("item").GetString()!));

        using var engine = RecommenderEngine.Load(dir.Path, ckpt, null, CPU);
        await using var store = await HistoryStores.OpenAsync("sqlite:" + Path.Combine(dir.Path, "events.db"));
        var history = await engine.HistoryAsync(user, store, CancellationToken.None);
        Assert.Equal(want, engine.Retrieve(history, 10, excludeSeen: true).Select(x => engine.Data.ItemKey(x.Item)));

        // The same events in another order number the items differently: refused, not answered.
        var lines = File.ReadAllLines(Path.Combine(dir.Path, "ratings.csv"));
        var shuffled = Path.Combine(dir.Path, "other.csv");
        File.WriteAllLines(shuffled, lines.Take(1).Concat(lines.Skip(1).Reverse()));
        var refused = GenRecCli.Run(
            "recommend", "--checkpoint", ckpt, "--data", shuffled, "--user", user, "--threads", "1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("number items differently", refused.Output);
    }

    private static string Save(TempDir dir, PreparedDataset data, string name, bool keys = true)
    {
        var cfg = new ExperimentConfig
        {
            Model = new ModelConfig
            {
                EmbeddingDim = 8,
                NumLayers = 1,
                NumHeads = 1,
                QkDim = 8,
                VDim = 8,
                MaxLength = 15,
            },
        };
        using var model = SequenceEncoder.Create(cfg.Model, data.ItemTableSize, null);
        var path = Path.Combine(dir.Path, name);
        var info = new Checkpoint
        {
            Config = cfg,
            ItemTableSize = data.ItemTableSize,
            Dataset = data.Name,
            ItemKeys = keys ? data.ItemKeys : null,
        };
        info.Save(path, model);
        return path;
    }

    private static JsonElement Json((int ExitCode, string Output) run)
    {
        Assert.True(run.ExitCode == 0, run.Output);
        return JsonDocument.Parse(run.Output.Split('\n').First(l => l.StartsWith('{'))).RootElement.Clone();
    }
}
