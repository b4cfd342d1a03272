using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests.Data.Features;

public class SequenceBuilderTests
{
    /// <summary>A small log the tests write themselves: two users, events, demographics, an auxiliary series, items.</summary>
    internal static (TempDir Dir, FeatureSchema Schema) SmallLog(long window = 100, string? extraEventColumn = null)
    {
        var dir = new TempDir();
        dir.Write("events.csv", string.Join('\n',
            "user,item,rating,ts" + (extraEventColumn is null ? "" : ",ctr"),
            Row("u1,A,5,100"), Row("u2,B,1,105"), Row("u1,B,1,110"), Row("u1,C,4,150"), Row("u2,A,3,160"), Row("u1,A,3,300"), Row("u2,C,5,170")) + "\n");
        dir.Write("users.csv", "user,gender,zip\nu1,F,12345\nu2,M,99999\nu3,F,55555\n");
        // u1 follows X at 100 (same time as the first event), X again at 120 (same window: dropped), Y at 130, X at 210 (new window).
        dir.Write("follows.csv", "user,creator,ts\nu1,X,100\nu1,X,120\nu1,Y,130\nu1,X,210\nu2,Z,161\n");
        dir.Write("items.csv", "item,title,genres\nA,Alpha,g1|g2\nB,Beta,g2\nC,Gamma,\nD,Delta,g3\n");
        var schema = FeatureSchema.Parse($$"""
        {
          "name": "small",
          "sources": [
            { "file": "events.csv", "header": true, "columns": [
              { "name": "user", "role": "user" }, { "name": "item", "role": "item" },
              { "name": "rating", "role": "action", "positive": [">=4"], "negative": ["<=2"], "neutral": ["3"] },
              { "name": "ts", "role": "timestamp" }{{(extraEventColumn is null ? "" : $", {{ \"name\": \"ctr\", \"role\": \"{extraEventColumn}\" }}")}} ] },
            { "file": "users.csv", "header": true, "columns": [
              { "name": "user", "role": "user" }, { "name": "gender", "role": "contextual" }, { "name": "zip", "role": "contextual", "hashBuckets": 7 } ] },
            { "file": "follows.csv", "header": true, "columns": [
              { "name": "user", "role": "user" }, { "name": "creator", "role": "auxiliary", "windowSeconds": {{window}} }, { "name": "ts", "role": "timestamp" } ] },
            { "file": "items.csv", "header": true, "columns": [
              { "name": "item", "role": "item" }, { "name": "title", "role": "title" }, { "name": "genres", "role": "itemFeature", "separator": "|" } ] }
          ]
        }
        """);
        return (dir, schema);

        string Row(string r) => extraEventColumn is null ? r : r + ",0.5";
    }

    internal static PreparedDataset Prepare(TempDir dir, FeatureSchema schema, long partitionBytes = 128L << 20)
    {
        var outDir = Path.Combine(dir.Path, "prepared");
        new SequenceBuilder(schema, dir.Path) { PartitionBytes = partitionBytes }.Build(outDir);
        return PreparedDataset.Open(outDir);
    }

    private static int User(PreparedDataset d, string key) => Enumerable.Range(0, d.UserCount).Single(u => d.UserKey(u) == key);

    private static string Describe(PreparedDataset d, Token t) => t.IsItem
        ? d.ItemKey(t.Value)
        : d.Features.TokenKinds[t.Kind - 1].Name + ":" + (d.Features.TokenKinds[t.Kind - 1].Hashed ? "#" : File.ReadAllLines(Path.Combine(d.Directory, "vocab", d.Features.TokenKinds[t.Kind - 1].Name + ".txt"))[t.Value - 1]);

    [Fact]
    public void MergesContextualFirstThenEverythingByTimeWithFeatureTokensBeforeItemsAtEqualTimes()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var d = Prepare(dir, schema);
        var u1 = d.Tokens(User(d, "u1")).ToArray();
        Assert.Equal(["gender:F", "zip:#", "creator:X", "A", "B", "creator:Y", "C", "creator:X", "A"], u1.Select(t => Describe(d, t)));
        Assert.Equal([100L, 100, 100, 100, 110, 130, 150, 210, 300], u1.Select(t => t.Timestamp));
        var u2 = d.Tokens(User(d, "u2")).ToArray();
        Assert.Equal(["gender:M", "zip:#", "B", "A", "creator:Z", "C"], u2.Select(t => Describe(d, t)));
    }

    [Fact]
    public void PartitionsOnDiskGiveTheSameSequencesAsOnePartition()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var one = Prepare(dir, schema);
        var expected = Enumerable.Range(0, one.UserCount).ToDictionary(one.UserKey, u => one.Tokens(u).ToArray());
        var outDir = Path.Combine(dir.Path, "many");
        new SequenceBuilder(schema, dir.Path) { PartitionBytes = 16 }.Build(outDir);
        using var many = PreparedDataset.Open(outDir);
        Assert.Equal(expected.Count, many.UserCount);
        for (int u = 0; u < many.UserCount; u++) Assert.Equal(expected[many.UserKey(u)], many.Tokens(u).ToArray());
    }

    [Fact]
    public void WindowCompressionKeepsTheEarliestValueAndReEmitsOnChangeOrNewWindow()
    {
        // window 100: X@100 kept, X@120 same window dropped, Y@130 new value kept, X@150 already in window dropped, X@210 new window kept.
        Assert.Equal([0, 2, 4], SequenceBuilder.Compress([100L, 120, 130, 150, 210], [1, 1, 2, 1, 1], 100));
        // No window: emit only when the value differs from the last emitted one.
        Assert.Equal([0, 2, 3], SequenceBuilder.Compress([100L, 120, 130, 150, 210], [1, 1, 2, 1, 1], 0));
        // Negative times fall in their own (floored) windows.
        Assert.Equal([0, 1], SequenceBuilder.Compress([-1L, 0], [5, 5], 100));
    }

    [Fact]
    public void MasksAreZeroBeforeFeatureTokensAndBeforeNegativeFeedback()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var d = Prepare(dir, schema);
        var u1 = d.Tokens(User(d, "u1")).ToArray();
        // gender→zip (feature) 0, zip→creator (feature) 0, creator→A 1, A→B (B rated 1: negative) 0, B→Y (feature) 0, Y→C 1, C→X 0, X→A 1, last 0.
        Assert.Equal([false, false, true, false, false, true, false, true, false], u1.Select(t => t.Supervised));
        Assert.Equal([Feedback.Positive, Feedback.Negative, Feedback.Positive, Feedback.Neutral], u1.Where(t => t.IsItem).Select(t => t.Feedback));
        Assert.Equal(2, d.Summary.NegativeEvents);
        Assert.Equal(2, d.Summary.MaskedBeforeNegativeFeedback);
        Assert.Equal(1, d.Summary.CompressedAway);
    }

    [Fact]
    public void SplitAppliesTheMaskOptionAndKeepsContextualTokensWhenTruncating()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var d = Prepare(dir, schema);
        int u1 = User(d, "u1");
        // Test target: the last item (A@300). maxLength 3: gender and zip stay at the front, then the latest other token.
        var masked = LeaveOneOutSplit.Create(d, 3, EvalSplit.Test, new FeatureOptions());
        var e = masked.Eval.Single(x => x.UserId == u1);
        Assert.Equal(["gender:F", "zip:#", "creator:X"], e.History.Select((v, i) => Describe(d, new Token(0, (int)v, 0, e.HistoryKinds![i], 0))));
        Assert.Equal(d.Corpus.Single(i => d.ItemKey(i) == "A"), e.Target);
        Assert.Equal(300, e.TargetTimestamp);

        var full = LeaveOneOutSplit.Create(d, 50, EvalSplit.Test, new FeatureOptions());
        var t = full.Train.Single(x => x.UserId == u1);
        Assert.Equal(8, t.History.Length);
        Assert.Equal([false, false, true, false, false, true, false, false], t.Supervised!);
        var unmasked = LeaveOneOutSplit.Create(d, 50, EvalSplit.Test, new FeatureOptions { MaskNegative = false });
        Assert.Equal([false, false, true, true, false, true, false, false], unmasked.Train.Single(x => x.UserId == u1).Supervised!);

        var itemsOnly = LeaveOneOutSplit.Create(d, 50, EvalSplit.Test, new FeatureOptions { Contextual = false, Auxiliary = false, Actions = false });
        var plain = itemsOnly.Train.Single(x => x.UserId == u1);
        Assert.Null(plain.HistoryKinds);
        Assert.Null(plain.HistoryActions);
        Assert.Equal(["A", "B", "C"], plain.History.Select(i => d.ItemKey(i)));
    }

    [Fact]
    public void HashedFeaturesStayWithinTheirBuckets()
    {
        for (int i = 0; i < 2000; i++)
        {
            int b = ValueVocabulary.Bucket($"value-{i}", 7);
            Assert.InRange(b, 1, 7);
        }
        Assert.Equal(ValueVocabulary.Bucket("12345", 1000), ValueVocabulary.Bucket("12345", 1000));
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var d = Prepare(dir, schema);
        var zip = d.Features.TokenKinds.Single(k => k.Name == "zip");
        Assert.True(zip.Hashed);
        Assert.Equal(8, zip.Size);
        int kind = d.Features.TokenKinds.IndexOf(zip) + 1;
        var zips = Enumerable.Range(0, d.UserCount).SelectMany(u => d.Tokens(u).ToArray()).Where(t => t.Kind == kind).ToList();
        Assert.Equal(2, zips.Count);
        Assert.All(zips, t => Assert.InRange(t.Value, 1, 7));
        Assert.Equal(ValueVocabulary.Bucket("12345", 7), zips[d.UserKey(0) == "u1" ? 0 : 1].Value);
    }

    [Theory]
    [InlineData("dense")]
    [InlineData("ignore")]
    public void DenseAndIgnoredColumnsAreDroppedAndReported(string role)
    {
        var (dir, schema) = SmallLog(extraEventColumn: role);
        using var _ = dir;
        using var d = Prepare(dir, schema);
        Assert.DoesNotContain(d.Features.TokenKinds, k => k.Name == "ctr");
        Assert.Equal([$"events.csv: ctr ({role})"], d.Summary.DroppedColumns);
        Assert.Equal(7, d.Summary.Events);
    }

    [Fact]
    public void SummaryCountsUsersAndItemsWithoutEventsAndItemFeaturesAreKept()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var d = Prepare(dir, schema);
        Assert.Equal(2, d.UserCount);
        Assert.Equal(1, d.Summary.UsersWithoutEvents);   // u3 has demographics only
        Assert.Equal(1, d.Summary.ItemsWithoutEvents);   // D is never engaged
        Assert.Equal(1, d.Summary.EmptyValues);          // Gamma has no genres
        var genres = d.Features.ItemFeatures.Single();
        Assert.Equal(2, genres.Width);
        var ids = d.ItemFeatureIds(0)!;
        long a = d.Corpus.Single(i => d.ItemKey(i) == "A");
        Assert.Equal([1L, 2L], ids[(int)(a * 2)..(int)(a * 2 + 2)]);
        Assert.Equal("Alpha", d.Describe(a));
    }

    [Fact]
    public void ParquetSourcesGiveTheSameTokensAsCsv()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        using var fromCsv = Prepare(dir, schema);
        ParquetFiles.WriteEvents(Path.Combine(dir.Path, "events.parquet"),
            ["u1", "u2", "u1", "u1", "u2", "u1", "u2"], ["A", "B", "B", "C", "A", "A", "C"], [5, 1, 1, 4, 3, 3, 5], [100, 105, 110, 150, 160, 300, 170]);
        var pq = schema with { Sources = [schema.Sources[0] with { File = "events.parquet", Header = false }, .. schema.Sources.Skip(1)] };
        pq.Validate("test");
        var outDir = Path.Combine(dir.Path, "pq");
        new SequenceBuilder(pq, dir.Path).Build(outDir);
        using var fromParquet = PreparedDataset.Open(outDir);
        Assert.Equal(fromCsv.UserCount, fromParquet.UserCount);
        for (int u = 0; u < fromCsv.UserCount; u++)
        {
            Assert.Equal(fromCsv.UserKey(u), fromParquet.UserKey(u));
            Assert.Equal(fromCsv.Tokens(u).ToArray(), fromParquet.Tokens(u).ToArray());
        }
    }

    [Fact]
    public void ABuildThatFailsLeavesNoFolderBehindAndKeepsThePreviousOne()
    {
        var (dir, schema) = SmallLog();
        using var _ = dir;
        var outDir = Path.Combine(dir.Path, "prepared");
        new SequenceBuilder(schema, dir.Path).Build(outDir);
        var before = File.ReadAllBytes(Path.Combine(outDir, "tokens.bin"));
        dir.Write("events.csv", "user,item,rating,ts\nu1,A,5,100\nu1,B,5,not-a-time\n");
        Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path).Build(outDir));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, "tokens.bin")));
        Assert.Empty(Directory.GetDirectories(dir.Path, "prepared.tmp-*"));
    }
}
