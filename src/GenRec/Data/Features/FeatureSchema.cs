using System.Text.Json;
using System.Text.Json.Serialization;

namespace GenRec.Data.Features;

/// <summary>
/// The declarative description of a unified feature space: which files hold events, user features and item features,
/// and what each column means. Loaded from JSON (<c>configs/**/schema*.json</c>) and validated as a whole, so that
/// every mistake is reported with its file and field before any data is read.
/// </summary>
public sealed record FeatureSchema
{
    /// <summary>JSON options: camelCase, comments and trailing commas allowed, unknown fields rejected.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>A name for reports (for example ML-1M-U3K).</summary>
    public string Name { get; init; } = "dataset";

    /// <summary>The input files.</summary>
    public List<SourceSchema> Sources { get; init; } = [];

    /// <summary>Reads and validates a schema file.</summary>
    public static FeatureSchema Load(string path)
    {
        if (!File.Exists(path)) throw new SchemaException(path, "", "schema file not found.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates schema JSON; <paramref name="file"/> names it in errors.</summary>
    public static FeatureSchema Parse(string json, string file = "schema")
    {
        FeatureSchema? schema;
        try { schema = JsonSerializer.Deserialize<FeatureSchema>(json, Json); }
        catch (JsonException e)
        {
            string where = e.Path is null ? "" : e.Path.TrimStart('$', '.');
            throw new SchemaException(file, where, $"{e.Message.Split(" Path:")[0]} (line {e.LineNumber + 1})", e);
        }
        if (schema is null) throw new SchemaException(file, "", "the file is empty; expected a JSON object with \"sources\".");
        schema.Validate(file);
        return schema;
    }

    /// <summary>Serialises to indented JSON (a copy is kept with every prepared folder).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Checks the whole schema; the first problem is thrown with its file and field.</summary>
    public void Validate(string file)
    {
        SchemaException Error(string field, string problem) => new(file, field, problem);
        if (Sources.Count == 0) throw Error("sources", "no sources; expected at least one file with user, item and timestamp columns.");
        var features = new Dictionary<string, (ColumnRole Role, string Path)>(StringComparer.Ordinal);
        for (int s = 0; s < Sources.Count; s++)
        {
            var src = Sources[s];
            string sp = $"sources[{s}]";
            if (string.IsNullOrWhiteSpace(src.File)) throw Error($"{sp}.file", "missing; expected a path relative to the data folder.");
            if (src.ResolvedFormat is not ("csv" or "parquet")) throw Error($"{sp}.format", $"'{src.Format}' is not a format; expected csv or parquet.");
            if (src.Delimiter.Length == 0) throw Error($"{sp}.delimiter", "empty; expected a separator such as \",\" or \"::\".");
            if (src.Encoding is not ("utf-8" or "latin1")) throw Error($"{sp}.encoding", $"'{src.Encoding}' is not an encoding; expected utf-8 or latin1.");
            if (src.Columns.Count == 0) throw Error($"{sp}.columns", $"{src.File}: no columns listed.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (int c = 0; c < src.Columns.Count; c++)
            {
                var col = src.Columns[c];
                string cp = $"{sp}.columns[{c}]";
                if (string.IsNullOrWhiteSpace(col.Name)) throw Error($"{cp}.name", "missing; every column needs a name.");
                if (!names.Add(col.Name)) throw Error($"{cp}.name", $"column '{col.Name}' is listed twice in {src.File}.");
                var role = col.ParsedRole;
                if (!Enum.IsDefined(role))
                    throw Error($"{cp}.role", $"'{col.Role}' is not a role; expected one of user, item, timestamp, action, contextual, auxiliary, itemFeature, title, dense, ignore.");
                if (col.HashBuckets is < 1) throw Error($"{cp}.hashBuckets", $"{col.HashBuckets} buckets; expected at least 1.");
                if (col.HashBuckets is not null && role is not (ColumnRole.Contextual or ColumnRole.Auxiliary or ColumnRole.ItemFeature))
                    throw Error($"{cp}.hashBuckets", $"only contextual, auxiliary and itemFeature columns are hashed, not {col.Role}.");
                if (col.WindowSeconds is not null && role != ColumnRole.Auxiliary)
                    throw Error($"{cp}.windowSeconds", "only auxiliary columns have a compression window.");
                if (col.WindowSeconds is < 0) throw Error($"{cp}.windowSeconds", $"{col.WindowSeconds}; expected 0 or more seconds.");
                if (col.Separator is { Length: 0 }) throw Error($"{cp}.separator", "empty; expected a string such as \"|\".");
                if (col.Flag && role is not (ColumnRole.ItemFeature or ColumnRole.Contextual))
                    throw Error($"{cp}.flag", "only itemFeature and contextual columns can be 0/1 flags.");
                bool hasPolarity = col.Positive is not null || col.Negative is not null || col.Neutral is not null || col.Otherwise is not null;
                if (role == ColumnRole.Action) _ = new PolarityRule(col, Error, cp);
                else if (hasPolarity) throw Error(cp, $"positive/negative/neutral/otherwise belong to action columns; '{col.Name}' is {col.Role}.");
                if (role is ColumnRole.Contextual or ColumnRole.Auxiliary or ColumnRole.ItemFeature)
                {
                    if (features.TryGetValue(col.FeatureName, out var prev) && prev.Role != role)
                        throw Error(cp, $"feature '{col.FeatureName}' is {col.Role} here but {prev.Role} at {prev.Path}; one feature has one role.");
                    features.TryAdd(col.FeatureName, (role, cp));
                }
            }
            foreach (var unique in new[] { ColumnRole.User, ColumnRole.Item, ColumnRole.Timestamp, ColumnRole.Title })
                if (src.Columns.Count(c => c.ParsedRole == unique) > 1)
                    throw Error($"{sp}.columns", $"{src.File} has more than one {unique.ToString().ToLowerInvariant()} column; expected one.");
            var kind = src.Kind;
            bool has(ColumnRole r) => src.Columns.Any(c => c.ParsedRole == r);
            switch (kind)
            {
                case SourceKind.Unkeyed:
                    throw Error($"{sp}.columns", $"{src.File} has neither a user nor an item column; every source needs a key.");
                case SourceKind.Events when !has(ColumnRole.Timestamp):
                    throw Error($"{sp}.columns", $"{src.File} has user and item columns (events) but no timestamp column; the main series is ordered by time.");
                case SourceKind.UserFeatures:
                    if (has(ColumnRole.Auxiliary) && !has(ColumnRole.Timestamp))
                        throw Error($"{sp}.columns", $"{src.File} has auxiliary columns but no timestamp column; an auxiliary series needs times (use contextual for features without time).");
                    if (has(ColumnRole.Action) || has(ColumnRole.ItemFeature) || has(ColumnRole.Title))
                        throw Error($"{sp}.columns", $"{src.File} has a user column but no item column, so it cannot hold actions, item features or titles.");
                    break;
                case SourceKind.ItemFeatures:
                    if (has(ColumnRole.Action) || has(ColumnRole.Contextual) || has(ColumnRole.Auxiliary))
                        throw Error($"{sp}.columns", $"{src.File} has an item column but no user column, so it cannot hold actions or user features.");
                    break;
                case SourceKind.Events:
                    if (has(ColumnRole.Contextual) || has(ColumnRole.Auxiliary))
                        throw Error($"{sp}.columns", $"{src.File} is an event source; put user features (contextual, auxiliary) in a source of their own.");
                    break;
            }
        }
        if (!Sources.Any(s => s.Kind == SourceKind.Events))
            throw Error("sources", "no event source; expected one file with user, item and timestamp columns (the main series).");
        var actionCounts = Sources.Where(s => s.Kind == SourceKind.Events).Select(s => s.Columns.Count(c => c.ParsedRole == ColumnRole.Action)).Distinct().ToList();
        if (actionCounts.Count > 1) throw Error("sources", "event sources differ in their number of action columns; give them the same actions.");
    }
}
