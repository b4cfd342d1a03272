using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Evaluation;
using GenRec.Model;
using GenRec.Model.Interop;
using GenRec.Native;
using static TorchSharp.torch;

namespace GenRec.Tests.Model;

/// <summary>
/// GenRec's HSTU is the official one: the weights of a model trained by Meta's code (tests/fixtures/official-hstu,
/// made as its README says), imported with <see cref="OfficialHstu.Import"/>, give the official code's own user
/// embeddings, top-10 lists, target ranks, per-layer activations and full-corpus metrics.
/// </summary>
public sealed class OfficialParityTests : IClassFixture<OfficialParityTests.Imported>
{
    /// <summary>Agreement asked of every float: the official values are float32 from another BLAS.</summary>
    private const double Tolerance = 1e-4;

    private readonly Imported _fx;

    public OfficialParityTests(Imported fixture) => _fx = fixture;

    /// <summary>The fixture imported once, laid out in the ids of its own data folder read by GenRec.</summary>
    public sealed class Imported : IDisposable
    {
        public static string Folder => Path.Combine(Repository.Root, "tests", "fixtures", "official-hstu");

        public Imported()
        {
            Data = DataSource.Open(Path.Combine(Folder, "data", "ml-1m"));
            (Info, Model) = OfficialHstu.Import(Folder, Data);
            Users = File.ReadAllLines(Path.Combine(Folder, "expected.jsonl"))
                .Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            Metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "metrics.json")))!.AsObject();
            for (int i = 0; i < Info.ItemKeys!.Count; i++) GenRecId[Info.ItemKeys[i]] = i + 1;
        }

        public PreparedDataset Data { get; }
        public Checkpoint Info { get; }
        public HstuEncoder Model { get; }
        public List<JsonObject> Users { get; }
        public JsonObject Metrics { get; }
        public Dictionary<string, long> GenRecId { get; } = [];

        /// <summary>An official item id (a MovieLens-layout movie id) as a GenRec id.</summary>
        public long Id(long official) => GenRecId[official.ToString(System.Globalization.CultureInfo.InvariantCulture)];

        public string Key(long genRecId) => Info.ItemKeys![(int)genRecId - 1];

        /// <summary>The user's recorded input: history ids (GenRec), times, and the target's time.</summary>
        public (long[] Ids, long[] Times, long Query) Input(JsonObject user)
        {
            int l = (int)user["past_length"]!;
            var ids = user["past_ids"]!.AsArray().Take(l).Select(n => Id((long)n!)).ToArray();
            var times = user["past_timestamps"]!.AsArray().Take(l).Select(n => (long)n!).ToArray();
            return (ids, times, (long)user["target_timestamp"]!);
        }

        public void Dispose()
        {
            Model.Dispose();
            Data.Dispose();
        }
    }

    private static float[] Floats(JsonNode node) => node.AsArray().Select(n => (float)n!).ToArray();

    private float[] UserEmbedding(JsonObject user)
    {
        var (ids, times, query) = _fx.Input(user);
        using var _ = no_grad();
        using var batch = SequenceBatch.Create([ids], [times], [query], CPU);
        using var all = _fx.Model.forward(batch);
        using var last = SequenceEncoder.LastPosition(all, batch.Lengths);
        return last.data<float>().ToArray();
    }

    [Fact]
    public void EveryOfficialUserEmbeddingIsReproducedFromTheImportedWeights()
    {
        Assert.Equal(64, _fx.Users.Count);
        double worst = 0;
        foreach (var user in _fx.Users)
        {
            var want = Floats(user["user_embedding"]!);
            var got = UserEmbedding(user);
            Assert.Equal(want.Length, got.Length);
            worst = Math.Max(worst, want.Zip(got, (a, b) => (double)Math.Abs(a - b)).Max());
        }
        Assert.True(worst <= Tolerance, $"largest difference from the official user embeddings: {worst:E2}");
    }

    [Fact]
    public void TheOfficialTopTenScoresAndTargetRankAreReproduced()
    {
        using var _ = no_grad();
        using var table = _fx.Model.NormalizedItems(tensor(_fx.Data.Corpus));
        foreach (var user in _fx.Users)
        {
            var (ids, _, _) = _fx.Input(user);
            using var u = tensor(UserEmbedding(user));
            var scores = table.matmul(u).data<float>().ToArray();
            // The official eval drops the items of the (truncated) history, never the target.
            long target = _fx.Id((long)user["target_item_id"]!);
            var seen = ids.Where(i => i != target).ToHashSet();
            var ranked = _fx.Data.Corpus.Select((id, c) => (id, s: scores[c])).Where(x => !seen.Contains(x.id))
                .OrderByDescending(x => x.s).ToList();
            var wantIds = user["top10_item_ids"]!.AsArray().Select(n => n!.ToJsonString());
            Assert.Equal(wantIds, ranked.Take(10).Select(x => _fx.Key(x.id)));
            var wantScores = Floats(user["top10_scores"]!);
            for (int i = 0; i < 10; i++) Assert.InRange(ranked[i].s - wantScores[i], -Tolerance, Tolerance);
            float targetScore = scores[Array.IndexOf(_fx.Data.Corpus, target)];
            Assert.InRange(targetScore - (float)user["target_score"]!, -Tolerance, Tolerance);
            long rank = 1 + ranked.Count(x => x.s > targetScore);
            Assert.Equal((long)user["target_rank"]!, Math.Min(rank, 2501));
        }
    }

    [Fact]
    public void EveryLayerMatchesTheOfficialActivations()
    {
        var doc = JsonNode.Parse(File.ReadAllText(Path.Combine(Imported.Folder, "intermediates.json")))!;
        using var _ = no_grad();
        foreach (var user in doc["users"]!.AsArray().Select(u => u!.AsObject()))
        {
            int l = (int)user["past_length"]!;
            var ids = user["past_ids"]!.AsArray().Select(n => _fx.Id((long)n!)).ToArray();
            var times = user["past_timestamps"]!.AsArray().Select(n => (long)n!).ToArray();
            using var batch = SequenceBatch.Create([ids], [times], [(long)user["target_timestamp"]!], CPU);
            var model = _fx.Model;
            using var positions = arange(Scalars.Of((long)l));
            using var valid = ones(1, l, 1);
            var x = model.InputEmbeddings(batch, positions);
            AssertClose(user["input_embeddings"]!, x, $"user {user["user_id"]} input embeddings");
            // The time buckets: query i against key j uses the next event's time (the target's at the last position).
            using var buckets = TimeBuckets.Compute(batch.QueryTimestamps, batch.Timestamps, model.Config.TimeBuckets);
            var b = buckets.data<long>().ToArray();
            var tri = user["time_buckets_lower_triangle"]!.AsArray();
            for (int i = 0; i < l; i++)
                for (int j = 0; j <= i; j++)
                    Assert.Equal((long)tri[i]![j]!, b[i * l + j]);
            for (int layer = 0; layer < model.Layers.Count; layer++)
            {
                using var rab = model.Biases[layer].forward(buckets);
                var next = model.Layers[layer].forward(x, rab, valid);
                x.Dispose();
                x = next;
                AssertClose(user["layer_outputs"]![layer]!, x, $"user {user["user_id"]} layer {layer}");
            }
            using var normalized = SequenceEncoder.Normalize(x);
            AssertClose(user["l2_normalized_outputs"]!, normalized, $"user {user["user_id"]} normalised outputs");
            x.Dispose();
        }
    }

    [Fact]
    public void GenRecsEvaluationGivesTheOfficialRanksAndMetrics()
    {
        // GenRec's own split and evaluator over the fixture's ratings (the official protocol: last event held out,
        // up to 200 events of history, the history's items excluded, every item a candidate).
        var split = _fx.Data.Split(_fx.Info.Config.Model.MaxLength, EvalSplit.Test, new FeatureOptions());
        var ranks = Evaluator.Ranks(_fx.Model, split.Eval, _fx.Data.Corpus, CPU);
        var official = _fx.Metrics["per_user_target_rank"]!.AsObject();
        Assert.Equal(official.Count, split.Eval.Count);
        for (int i = 0; i < ranks.Length; i++)
        {
            var user = _fx.Data.UserKey((int)split.Eval[i].UserId);
            // The official eval looks at the top 2,500 only and counts a target beyond them as 2,501.
            Assert.True((long)official[user]! == Math.Min(ranks[i], 2501),
                $"user {user}: GenRec rank {ranks[i]}, official {official[user]}");
        }
        var metrics = RetrievalMetrics.FromRanks(ranks);
        Assert.Equal((double)_fx.Metrics["HR@10"]!, metrics.Hr10, 6);
        Assert.Equal((double)_fx.Metrics["HR@50"]!, metrics.Hr50, 6);
        Assert.Equal((double)_fx.Metrics["HR@200"]!, metrics.Hr200, 6);
        Assert.Equal((double)_fx.Metrics["NDCG@10"]!, metrics.Ndcg10, 6);
        Assert.Equal((double)_fx.Metrics["NDCG@200"]!, metrics.Ndcg200, 6);
    }

    [Fact]
    public void ExportThenImportGivesIdenticalWeightsAndScores()
    {
        using var dir = new TempDir();
        OfficialHstu.Export(_fx.Info, _fx.Model, dir.Path);
        var file = Path.Combine(dir.Path, OfficialHstu.WeightsFile);
        var saved = TorchSharp.PyBridge.Safetensors.LoadStateDict(file, null);
        try
        {
            // Every official name is there, with the causal-mask buffer load_state_dict(strict=True) asks for.
            var names = OfficialHstu.Parameters(_fx.Model).Select(p => p.Name).Append(OfficialHstu.AttentionMask);
            Assert.Equal(names.Order(), saved.Keys.Order());
            Assert.Equal(ScalarType.Bool, saved[OfficialHstu.AttentionMask].dtype);
        }
        finally
        {
            foreach (var t in saved.Values) t.Dispose();
        }
        var (info, model) = OfficialHstu.Import(dir.Path, _fx.Data);
        using (model)
        {
            Assert.Equal(_fx.Info.ItemKeys, info.ItemKeys);
            foreach (var ((name, a), (_, b)) in OfficialHstu.Parameters(_fx.Model).Zip(OfficialHstu.Parameters(model)))
                Assert.True(a.eq(b).all().item<bool>(), $"{name} changed on the way through safetensors");
            var user = _fx.Users[10];
            var (ids, times, query) = _fx.Input(user);
            using var _ = no_grad();
            using var batch = SequenceBatch.Create([ids], [times], [query], CPU);
            using var before = _fx.Model.forward(batch);
            using var after = model.forward(batch);
            Assert.True(before.eq(after).all().item<bool>());
        }
    }

    [Fact]
    public void ExportedInTheOfficialIdsTheFileIsTheOfficialStateDictByteForByte()
    {
        // Read without PyBridge: the safetensors layout (u64 header length, JSON header, raw little-endian data)
        // against the official tensors as numpy wrote them (tensors/*.npy, float32 C-order; the mask as 0/1).
        var (info, model) = OfficialHstu.Import(Imported.Folder);
        using var dir = new TempDir();
        using (model) OfficialHstu.Export(info, model, dir.Path);
        var file = File.ReadAllBytes(Path.Combine(dir.Path, OfficialHstu.WeightsFile));
        int n = checked((int)BitConverter.ToUInt64(file, 0));
        var header = JsonNode.Parse(file.AsSpan(8, n))!.AsObject();
        header.Remove("__metadata__");
        var data = file.AsSpan(8 + n);
        var npys = Directory.GetFiles(Path.Combine(Imported.Folder, "tensors"), "*.npy");
        Assert.Equal(npys.Select(f => Path.GetFileNameWithoutExtension(f)).Order(),
            header.Select(kv => kv.Key).Order());
        foreach (var npy in npys)
        {
            var entry = header[Path.GetFileNameWithoutExtension(npy)]!;
            var raw = File.ReadAllBytes(npy);
            int headerLength = BitConverter.ToUInt16(raw, 8);
            var npyHeader = Encoding.Latin1.GetString(raw, 10, headerLength);
            var values = raw.AsSpan(10 + headerLength);
            var shape = entry["shape"]!.AsArray().Select(d => (long)d!).ToArray();
            Assert.Contains($"'shape': ({string.Join(", ", shape)}{(shape.Length == 1 ? "," : "")})", npyHeader);
            long start = (long)entry["data_offsets"]![0]!, end = (long)entry["data_offsets"]![1]!;
            var bytes = data[(int)start..(int)end];
            if ((string)entry["dtype"]! == "BOOL")
            {
                var floats = MemoryMarshal.Cast<byte, float>(values);
                Assert.True(floats.ToArray().Select(f => (byte)f).SequenceEqual(bytes.ToArray()), "the mask differs");
            }
            else
            {
                Assert.Equal("F32", (string)entry["dtype"]!);
                Assert.True(values.SequenceEqual(bytes), $"{Path.GetFileName(npy)} differs");
            }
        }
    }

    [Fact]
    public void WeightsAndAConfigThatDoNotBelongTogetherAreRefused()
    {
        using var dir = new TempDir();
        File.Copy(Path.Combine(Imported.Folder, OfficialHstu.PickleFile),
            Path.Combine(dir.Path, OfficialHstu.PickleFile));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Imported.Folder, OfficialHstu.ConfigFile)))!;
        config["model"]!["num_blocks"] = 3;
        File.WriteAllText(Path.Combine(dir.Path, OfficialHstu.ConfigFile), config.ToJsonString());
        var e = Assert.Throws<InvalidDataException>(() => OfficialHstu.Import(dir.Path));
        Assert.Contains("'_hstu._attention_layers.2._uvqk' is missing", e.Message);

        config["model"]!["num_blocks"] = 2;
        config["model"]!["attention_dim_dqk"] = 40;
        File.WriteAllText(Path.Combine(dir.Path, OfficialHstu.ConfigFile), config.ToJsonString());
        e = Assert.Throws<InvalidDataException>(() => OfficialHstu.Import(dir.Path));
        Assert.Contains("'_hstu._attention_layers.0._uvqk' is [50, 200]; the config describes [50, 180]",
            e.Message);

        config["model"]!["attention_dim_dqk"] = 50;
        config["model"]!["normalization"] = "softmax_rel_bias";
        File.WriteAllText(Path.Combine(dir.Path, OfficialHstu.ConfigFile), config.ToJsonString());
        e = Assert.Throws<InvalidDataException>(() => OfficialHstu.Import(dir.Path));
        Assert.Contains("model.normalization is 'softmax_rel_bias'", e.Message);
    }

    [Fact]
    public void DataWithItemsTheModelNeverSawIsRefused()
    {
        using var dir = new TempDir();
        var csv = dir.Write("ratings.csv",
            "user,item,rating,timestamp\n1,1,5,10\n1,2,4,20\n1,99999,3,30\n2,1,5,10\n2,2,4,20\n");
        using var data = DataSource.Open(csv);
        var e = Assert.Throws<ArgumentException>(() => OfficialHstu.Import(Imported.Folder, data));
        Assert.Contains("item '99999' is not among the 2,980 items", e.Message);
    }

    private static void AssertClose(JsonNode want, Tensor got, string what)
    {
        var rows = want.AsArray();
        var g = got.contiguous().data<float>().ToArray();
        int d = (int)got.shape[^1];
        Assert.Equal(rows.Count * d, g.Length);
        double worst = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var w = Floats(rows[i]!);
            for (int k = 0; k < d; k++) worst = Math.Max(worst, Math.Abs(w[k] - g[i * d + k]));
        }
        Assert.True(worst <= Tolerance, $"{what}: largest difference {worst:E2}");
    }
}
