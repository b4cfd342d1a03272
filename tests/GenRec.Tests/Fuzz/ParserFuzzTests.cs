using FsCheck;
using FsCheck.Fluent;
using GenRec.Data;
using GenRec.Data.Features;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Fuzz;

/// <summary>
/// Property-based bad-input campaign (FsCheck, a bounded number of cases each): whatever bytes a parser is given, it
/// either reads them or refuses them with its own clear exception (file and line, field, or checksum) — never an
/// unexpected exception, never a hang, never a silently wrong read.
/// </summary>
public class ParserFuzzTests
{
    private const int Cases = 150;

    private static Config Quick => FuzzConfig.Cases(Cases);

    /// <summary>Lines made of pieces that parsers have to cope with: ids, numbers, separators, quotes, junk, non-ASCII.</summary>
    private static Gen<string> Lines(string separator) =>
        Gen.Elements("1", "2", "42", "0", "-7", "3.5", "1e9", "999999999999", "abc", "", " ", "\"", "\"a,b\"", "é", "\u00ff", "\t", "::", ",", "|", "NaN", "∞", "1000000000")
            .ArrayOf().Select(parts => string.Join(separator, parts))
            .ArrayOf().Select(lines => string.Join('\n', lines));

    private static void AcceptsOrRefusesClearly(Action read, params Type[] allowed)
    {
        try { read(); }
        catch (Exception e) when (allowed.Any(t => t.IsInstanceOfType(e))) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); }
    }

    [Theory]
    [InlineData("log.csv", ",")]
    [InlineData("ratings.dat", "::")]
    [InlineData("u.data", "\t")]
    public void RatingFilesAreReadOrRefusedWithFileAndLine(string name, string separator)
    {
        Prop.ForAll(Lines(separator).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(), (text, skip) =>
        {
            using var dir = new TempDir();
            var file = dir.Write(name, text);
            AcceptsOrRefusesClearly(() =>
            {
                var bad = new BadRows(skip);
                var d = DatasetReader.Read(name == "log.csv" ? file : dir.Path, bad);
                // Nothing is lost silently: every event read plus every row skipped is at most the lines given.
                Assert.True(d.NumEvents + bad.Count <= text.Split('\n').Length);
                Assert.All(d.Users, u => Assert.True(u.Length >= 2));
            }, typeof(DataLoadException));
        }).Check(Quick);
    }

    [Fact]
    public void RandomBytesAreReadOrRefusedWithFileAndLine()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            using var dir = new TempDir();
            var file = Path.Combine(dir.Path, "log.csv");
            File.WriteAllBytes(file, bytes);
            AcceptsOrRefusesClearly(() => DatasetReader.Read(file, new BadRows(skip: true)), typeof(DataLoadException));
            AcceptsOrRefusesClearly(() => DatasetReader.Read(file), typeof(DataLoadException));
        }).Check(Quick);
    }

    [Fact]
    public void SchemaJsonIsParsedOrRefusedNamingTheField()
    {
        // Mutations of a valid schema: keys and values swapped for others, pieces cut, junk inserted.
        const string valid = """{ "name": "s", "sources": [ { "file": "e.csv", "header": true, "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "r", "role": "action", "positive": [">=4"] }, { "name": "t", "role": "timestamp" } ] } ] }""";
        var tokens = new[] { "\"role\"", "\"user\"", "\"item\"", "\"contextual\"", "\"auxiliary\"", "\"hashBuckets\"", "-1", "0", "1e99", "null", "true", "[]", "{}", "\"\"", ",", ":", "\"positive\"", "[\">=x\"]", "\"windowSeconds\"", "\"format\"", "\"parquet\"" };
        var mutation = Gen.Choose(0, valid.Length).SelectMany(at => Gen.Choose(0, 12).SelectMany(cut => Gen.Elements(tokens).Select(insert => (at, cut, insert))));
        Prop.ForAll(mutation.ArrayOf().ToArbitrary(), edits =>
        {
            var s = valid;
            foreach (var (at, cut, insert) in edits)
            {
                int a = Math.Min(at, s.Length);
                s = s[..a] + insert + s[Math.Min(s.Length, a + cut)..];
            }
            AcceptsOrRefusesClearly(() => FeatureSchema.Parse(s, "fuzz.json"), typeof(SchemaException));
        }).Check(Quick);
    }

    /// <summary>The small test log with its events in events.parquet: the folder, the schema reading it, the file and its bytes.</summary>
    private static (TempDir Dir, FeatureSchema Schema, string Path, byte[] Bytes) ParquetEventsSource()
    {
        var (dir, schema) = Data.Features.SequenceBuilderTests.SmallLog();
        var path = Path.Combine(dir.Path, "events.parquet");
        Data.Features.ParquetFiles.WriteEvents(path, ["u1", "u2", "u1", "u1"], ["A", "B", "B", "C"], [5, 1, 1, 4], [100, 105, 110, 150]);
        var pq = schema with { Sources = [schema.Sources[0] with { File = "events.parquet", Header = false }, .. schema.Sources.Skip(1)] };
        return (dir, pq, path, File.ReadAllBytes(path));
    }

    [Fact]
    public void DamagedParquetSourcesAreRefusedNamingTheFile()
    {
        var (dir, pq, pqPath, good) = ParquetEventsSource();
        using var _ = dir;
        int run = 0;
        Prop.ForAll(Gen.Choose(0, good.Length - 1).ArrayOf().ToArbitrary(), Gen.Choose(0, good.Length).ToArbitrary(), (flips, cut) =>
        {
            var bytes = good[..Math.Max(cut, 0)];
            foreach (var f in flips) if (f < bytes.Length) bytes[f] ^= 0x5A;
            File.WriteAllBytes(pqPath, bytes);
            var outDir = Path.Combine(dir.Path, $"out-{run++}");
            AcceptsOrRefusesClearly(() => new SequenceBuilder(pq, dir.Path).Build(outDir), typeof(DataLoadException), typeof(SchemaException));
        }).Check(FuzzConfig.Cases(60));
    }

    [Fact]
    public void ParquetFileWithADamagedColumnChunkIsRefusedNamingTheFile()
    {
        // A case the fuzz test above found (CI, 2026-11-29): the footer still parses, a column chunk does not, and
        // Parquet.Net's own exception escaped without the file's name.
        var (dir, pq, pqPath, good) = ParquetEventsSource();
        using var _ = dir;
        var bytes = good[..700];
        bytes[487] ^= 0x5A;
        bytes[650] ^= 0x5A;
        File.WriteAllBytes(pqPath, bytes);
        var e = Assert.ThrowsAny<Exception>(() => new SequenceBuilder(pq, dir.Path).Build(Path.Combine(dir.Path, "out")));
        Assert.True(e is DataLoadException or SchemaException, $"{e.GetType().Name}: {e.Message}");
        Assert.Contains("events.parquet", e.Message);
    }

    [Fact]
    public void CheckpointReaderRefusesEveryMutation()
    {
        using var dir = new TempDir();
        var cfg = new ExperimentConfig { Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 10 } };
        var path = Path.Combine(dir.Path, "good.ckpt");
        using (var model = SequenceEncoder.Create(cfg.Model, 20))
            new Checkpoint { Config = cfg, ItemTableSize = 20 }.Save(path, model);
        var good = File.ReadAllBytes(path);
        var target = Path.Combine(dir.Path, "fuzz.ckpt");
        var edit = Gen.Choose(0, good.Length - 1).SelectMany(at => Gen.Choose(1, 255).Select(x => (at, (byte)x)));
        Prop.ForAll(edit.NonEmptyListOf().ToArbitrary(), Gen.Choose(1, good.Length).ToArbitrary(), (edits, keep) =>
        {
            var bytes = good[..keep];
            foreach (var (at, x) in edits) if (at < bytes.Length) bytes[at] ^= x;
            if (bytes.AsSpan().SequenceEqual(good)) return;
            File.WriteAllBytes(target, bytes);
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(target, CPU));
            Assert.Contains(target, e.Message);
        }).Check(Quick);
    }
}
