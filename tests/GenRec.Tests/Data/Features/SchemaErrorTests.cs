using GenRec.Data;
using GenRec.Data.Features;

namespace GenRec.Tests.Data.Features;

public class SchemaErrorTests
{
    private const string Events = """{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" } ] }""";

    private static string With(string sources) => $$"""{ "sources": [ {{sources}} ] }""";

    public static TheoryData<string, string, string> Cases => new()
    {
        { """{ "sources": [] }""", "sources", "no sources" },
        { """{ "sources": [ """ + Events + """ ], "extra": 1 }""", "extra", "could not be mapped" },
        { With("""{ "file": "", "columns": [ { "name": "u", "role": "user" } ] }"""), "sources[0].file", "missing" },
        { With("""{ "file": "e.csv", "format": "xlsx", "columns": [ { "name": "u", "role": "user" } ] }"""), "sources[0].format", "'xlsx' is not a format" },
        { With("""{ "file": "e.csv", "delimiter": "", "columns": [ { "name": "u", "role": "user" } ] }"""), "sources[0].delimiter", "empty" },
        { With("""{ "file": "e.csv", "columns": [] }"""), "sources[0].columns", "no columns" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "", "role": "user" } ] }"""), "sources[0].columns[0].name", "missing" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "u", "role": "item" } ] }"""), "sources[0].columns[1].name", "listed twice" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "usr" } ] }"""), "sources[0].columns[0].role", "'usr' is not a role" },
        { With(Events + """, { "file": "p.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "z", "role": "contextual", "hashBuckets": 0 } ] }"""), "sources[1].columns[1].hashBuckets", "expected at least 1" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user", "hashBuckets": 5 } ] }"""), "sources[0].columns[0].hashBuckets", "only contextual" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "g", "role": "contextual", "windowSeconds": 5 } ] }"""), "sources[0].columns[1].windowSeconds", "only auxiliary" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "g", "role": "auxiliary", "windowSeconds": -1 }, { "name": "t", "role": "timestamp" } ] }"""), "sources[0].columns[1].windowSeconds", "expected 0 or more" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "i", "role": "item" }, { "name": "g", "role": "itemFeature", "separator": "" } ] }"""), "sources[0].columns[1].separator", "empty" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "i", "role": "item" }, { "name": "g", "role": "title", "flag": true } ] }"""), "sources[0].columns[1].flag", "only itemFeature and contextual" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }, { "name": "r", "role": "action" } ] }"""), "sources[0].columns[3]", "needs at least one of positive" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }, { "name": "r", "role": "action", "positive": [">=x"] } ] }"""), "sources[0].columns[3].positive", "not a number" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }, { "name": "r", "role": "action", "otherwise": "meh" } ] }"""), "sources[0].columns[3].otherwise", "not a polarity" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "i", "role": "item" }, { "name": "g", "role": "title", "positive": ["1"] } ] }"""), "sources[0].columns[1]", "belong to action columns" },
        { With(Events + """, { "file": "p.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "g", "role": "contextual" } ] }, { "file": "q.csv", "columns": [ { "name": "i", "role": "item" }, { "name": "g", "role": "itemFeature" } ] }"""), "sources[2].columns[1]", "one feature has one role" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "v", "role": "user" } ] }"""), "sources[0].columns", "more than one user column" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "x", "role": "dense" } ] }"""), "sources[0].columns", "neither a user nor an item column" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" } ] }"""), "sources[0].columns", "no timestamp column" },
        { With(Events + """, { "file": "p.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "c", "role": "auxiliary" } ] }"""), "sources[1].columns", "auxiliary columns but no timestamp" },
        { With(Events + """, { "file": "p.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "g", "role": "itemFeature" } ] }"""), "sources[1].columns", "cannot hold actions, item features or titles" },
        { With(Events + """, { "file": "p.csv", "columns": [ { "name": "i", "role": "item" }, { "name": "g", "role": "contextual" } ] }"""), "sources[1].columns", "cannot hold actions or user features" },
        { With("""{ "file": "e.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }, { "name": "g", "role": "contextual" } ] }"""), "sources[0].columns", "put user features" },
        { With("""{ "file": "p.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "g", "role": "contextual" } ] }"""), "sources", "no event source" },
        { With(Events + """, { "file": "f.csv", "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }, { "name": "r", "role": "action", "otherwise": "neutral" } ] }"""), "sources", "same actions" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EverySchemaMistakeNamesTheFileFieldAndWhatWasExpected(string json, string field, string fragment)
    {
        var e = Assert.Throws<SchemaException>(() => FeatureSchema.Parse(json, "my-schema.json"));
        Assert.Equal("my-schema.json", e.File);
        Assert.Equal(field, e.Field);
        Assert.Contains(fragment, e.Message);
        Assert.StartsWith($"my-schema.json: {field}: ", e.Message);
    }

    [Fact]
    public void MissingAndMalformedSchemaFilesAreReported()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<SchemaException>(() => FeatureSchema.Load(Path.Combine(dir.Path, "nope.json")));
        Assert.Contains("schema file not found", missing.Message);
        var bad = dir.Write("bad.json", "{ \"sources\": [ { \"file\": 3 ");
        var e = Assert.Throws<SchemaException>(() => FeatureSchema.Load(bad));
        Assert.StartsWith(bad + ":", e.Message);
        Assert.Contains("line 1", e.Message);
    }

    private static DataLoadException BuildFails(string eventsCsv, string? actionColumn = null, bool header = true, string? usersCsv = null)
    {
        using var dir = new TempDir();
        dir.Write("e.csv", eventsCsv);
        if (usersCsv is not null) dir.Write("p.csv", usersCsv);
        var action = actionColumn is null ? "" : """, { "name": "r", "role": "action", "positive": [">=4"], "negative": ["<=2"], "neutral": ["3"] }""";
        var users = usersCsv is null ? "" : """, { "file": "p.csv", "header": true, "columns": [ { "name": "u", "role": "user" }, { "name": "f", "role": "contextual", "flag": true } ] }""";
        var schema = FeatureSchema.Parse($$"""{ "sources": [ { "file": "e.csv", "header": {{(header ? "true" : "false")}}, "columns": [ { "name": "u", "role": "user" }, { "name": "i", "role": "item" }, { "name": "t", "role": "timestamp" }{{action}} ] }{{users}} ] }""");
        return Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "out")));
    }

    [Fact]
    public void BadDataNamesTheFileLineAndColumn()
    {
        var time = BuildFails("u,i,t\n1,2,100\n1,3,yesterday\n");
        Assert.EndsWith("e.csv", time.File);
        Assert.Equal(3, time.Line);
        Assert.Contains("column 't': 'yesterday' is not a timestamp; expected integer seconds", time.Message);

        var action = BuildFails("u,i,t,r\n1,2,100,5\n1,3,101,9.5x\n", actionColumn: "r");
        Assert.Equal(3, action.Line);
        Assert.Contains("column 'r': action value '9.5x' matches none of positive/negative/neutral", action.Message);

        var fields = BuildFails("1,2,100\n1,3\n", header: false);
        Assert.Equal(2, fields.Line);
        Assert.Contains("2 field(s) separated by \",\"; expected 3 (u, i, t)", fields.Message);

        var header = BuildFails("user,i,t\n1,2,100\n");
        Assert.Equal(1, header.Line);
        Assert.Contains("no column 'u' in the header", header.Message);

        var emptyUser = BuildFails("u,i,t\n,2,100\n");
        Assert.Contains("column 'u': empty user id", emptyUser.Message);

        var emptyItem = BuildFails("u,i,t\n1,,100\n");
        Assert.Contains("column 'i': empty item id", emptyItem.Message);

        var flag = BuildFails("u,i,t\n1,2,100\n", usersCsv: "u,f\n1,maybe\n");
        Assert.EndsWith("p.csv", flag.File);
        Assert.Contains("column 'f': 'maybe' is not a flag", flag.Message);

        var quote = BuildFails("u,i,t\n1,\"2,100\n");
        Assert.Contains("unterminated quoted field", quote.Message);
    }

    [Fact]
    public void AMissingSourceFileIsNamed()
    {
        using var dir = new TempDir();
        var schema = FeatureSchema.Parse(With(Events));
        var e = Assert.Throws<DataLoadException>(() => new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "out")));
        Assert.Contains("e.csv: file not found", e.Message);
    }

    [Fact]
    public void APreparedFolderIsOnlyWrittenOverAnotherPreparedFolder()
    {
        using var dir = new TempDir();
        dir.Write("e.csv", "1,2,100\n1,3,101\n");
        Directory.CreateDirectory(Path.Combine(dir.Path, "precious"));
        dir.Write("precious/thesis.txt", "do not delete");
        var schema = FeatureSchema.Parse(With(Events));
        var e = Assert.Throws<IOException>(() => new SequenceBuilder(schema, dir.Path).Build(Path.Combine(dir.Path, "precious")));
        Assert.Contains("is not a prepared folder", e.Message);
        Assert.True(File.Exists(Path.Combine(dir.Path, "precious", "thesis.txt")));
    }
}
