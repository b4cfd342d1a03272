using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace GenRec.Model;

/// <summary>
/// One experiment: the model and how to train it. Stored as JSON (<c>configs/**.json</c>) and inside every checkpoint.
/// Any value can be overridden with a dotted path, for example <c>model.numLayers=4</c> or <c>training.epochs=10</c>.
/// </summary>
public sealed record ExperimentConfig
{
    /// <summary>JSON options: camelCase, comments allowed, unknown fields rejected (a typo must not be ignored).</summary>
    public static readonly JsonSerializerOptions Json = new(GenRec.Data.Features.FeatureSchema.Json)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>A free-form name for reports.</summary>
    public string Name { get; init; } = "experiment";

    /// <summary>The architecture.</summary>
    public ModelConfig Model { get; init; } = new();

    /// <summary>The optimisation settings.</summary>
    public TrainingConfig Training { get; init; } = new();

    /// <summary>Ranking settings (used by <c>genrec rank-train</c>).</summary>
    public RankingConfig Ranking { get; init; } = new();

    /// <summary>Which parts of a prepared feature space to use (all by default; switches for ablations).</summary>
    public GenRec.Data.Features.FeatureOptions Features { get; init; } = new();

    /// <summary>Validates both parts.</summary>
    public void Validate()
    {
        Model.Validate();
        Training.Validate();
        Ranking.Validate();
    }

    /// <summary>Reads a config file, applies <c>path=value</c> overrides, validates; errors name the file and field.</summary>
    public static ExperimentConfig Load(string? path, IEnumerable<string>? overrides = null)
    {
        JsonNode root;
        if (path is null) root = JsonSerializer.SerializeToNode(new ExperimentConfig(), Json)!;
        else
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config file not found.", path);
            try { root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) ?? new JsonObject(); }
            catch (JsonException e) { throw new ArgumentException($"{path}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e); }
        }
        var sets = (overrides ?? []).ToList();
        foreach (var o in sets) Apply(root, o);
        DropRetired(root, path ?? "config");
        ExperimentConfig config;
        try { config = root.Deserialize<ExperimentConfig>(Json) ?? new ExperimentConfig(); }
        catch (JsonException e) { throw new ArgumentException(Explain(e, root, path ?? "config", sets), e); }
        config.Validate();
        return config;
    }

    /// <summary>
    /// A deserialisation error in the config's own words: the field (as a dotted path), what was given (and whether
    /// by <c>--set</c> or the file), what is expected, and for an unknown field the closest known one.
    /// </summary>
    private static string Explain(JsonException e, JsonNode root, string where, IReadOnlyList<string> sets)
    {
        var field = (e.Path ?? "$").TrimStart('$').TrimStart('.');
        var parts = field.Split('.', StringSplitOptions.RemoveEmptyEntries);
        var known = JsonSerializer.SerializeToNode(new ExperimentConfig(), Json)!;
        var unmapped = System.Text.RegularExpressions.Regex.Match(e.Message,
            "The JSON property '([^']+)' could not be mapped");
        if (unmapped.Success)
        {
            var name = unmapped.Groups[1].Value;
            var section = parts.Length > 0 && parts[^1] == name ? parts[..^1] : parts;
            JsonNode? node = known;
            foreach (var s in section) node = node?[s];
            var candidates = node is JsonObject o ? o.Select(kv => kv.Key) : [];
            var prefix = section.Length > 0 ? string.Join('.', section) + "." : "";
            var close = Data.Spelling.Closest(name, candidates);
            return $"{where}: unknown field {prefix}{name}"
                + (close is null ? "." : $" (did you mean {prefix}{close}?).");
        }
        JsonNode? given = root;
        Type? type = typeof(ExperimentConfig);
        foreach (var s in parts)
        {
            given = given is JsonObject g
                ? g.FirstOrDefault(kv => string.Equals(kv.Key, s, StringComparison.OrdinalIgnoreCase)).Value
                : null;
            type = type?.GetProperties()
                .FirstOrDefault(p => string.Equals(p.Name, s, StringComparison.OrdinalIgnoreCase))?.PropertyType;
        }
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        string kind = type == typeof(int) || type == typeof(long) ? "a whole number"
            : type == typeof(double) || type == typeof(float) ? "a number"
            : type == typeof(bool) ? "true or false"
            : type == typeof(string) ? "a string"
            : "a value of another type";
        var set = sets.LastOrDefault(x =>
            string.Equals(x.Split('=')[0].Trim(), field, StringComparison.OrdinalIgnoreCase));
        return set is not null
            ? $"--set {set}: {field} expects {kind}."
            : $"{where}: {field} is {given?.ToJsonString() ?? "missing"}; expected {kind}.";
    }

    /// <summary>
    /// Options an experiment once needed and that were retired once measured (their numbers stay in docs/results),
    /// with the value that is now the only behaviour. A config or checkpoint that sets one to that value still reads;
    /// any other value is refused with the reason, so that no run silently trains another way than it says.
    /// </summary>
    private static readonly (string Section, string Field, JsonNode Value, string Why)[] Retired =
    [
        ("training", "packSequences", JsonValue.Create(true), "users are always packed into rows (each user's outputs equal a row of its own); the padded runs are in docs/results/performance.md"),
        ("training", "bucketByLength", JsonValue.Create(false), "packing pads less than length buckets; their measurements are in docs/results/performance.md"),
        ("training", "bucketWindow", JsonValue.Create(32), "it belonged to training.bucketByLength (docs/results/performance.md)"),
        ("ranking", "startAtBaseRates", JsonValue.Create(false), "starting the output bias at the base rates measured worse (docs/results/ranking.md)"),
    ];

    /// <summary>Removes retired options set to their only value; refuses one set otherwise, naming <paramref name="where"/>.</summary>
    public static void DropRetired(JsonNode root, string where)
    {
        foreach (var (section, field, value, why) in Retired)
        {
            if (root[section] is not JsonObject obj) continue;
            var key = obj.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, field, StringComparison.OrdinalIgnoreCase));
            if (key is null) continue;
            if (!JsonNode.DeepEquals(obj[key], value))
                throw new ArgumentException($"{where}: {section}.{field} = {obj[key]?.ToJsonString()} is retired ({why}); remove it.");
            obj.Remove(key);
        }
    }

    /// <summary>Parses the JSON of a config (as stored in checkpoints).</summary>
    public static ExperimentConfig FromJson(string json) => JsonSerializer.Deserialize<ExperimentConfig>(json, Json) ?? throw new ArgumentException("empty config JSON.");

    /// <summary>Serialises to indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Applies one <c>a.b.c=value</c> override to a JSON tree (numbers, booleans and strings).</summary>
    public static void Apply(JsonNode root, string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ArgumentException($"--set {assignment}: expected path=value, for example model.numLayers=4.");
        var path = assignment[..eq].Trim().Split('.');
        var raw = assignment[(eq + 1)..].Trim();
        JsonNode node = root;
        for (int i = 0; i < path.Length - 1; i++)
        {
            var key = Find(node, path[i], assignment);
            node = node[key] ??= new JsonObject();
        }
        var leaf = Find(node, path[^1], assignment);
        JsonNode value = double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            ? (d == Math.Floor(d) && Math.Abs(d) < 1e15 && !raw.Contains('.') && !raw.Contains('e', StringComparison.OrdinalIgnoreCase) ? JsonValue.Create((long)d) : JsonValue.Create(d))
            : bool.TryParse(raw, out bool b) ? JsonValue.Create(b) : JsonValue.Create(raw);
        node[leaf] = value;
    }

    private static string Find(JsonNode node, string key, string assignment)
    {
        if (node is not JsonObject obj) throw new ArgumentException($"--set {assignment}: '{key}' is not inside an object.");
        var match = obj.Select(kv => kv.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase));
        if (match is not null) return match;
        // Allow fields the file leaves at their default: check they exist on the type.
        var known = JsonSerializer.SerializeToNode(new ExperimentConfig(), Json)!;
        bool exists = Contains(known, key) || Retired.Any(r => string.Equals(r.Field, key, StringComparison.OrdinalIgnoreCase));
        if (!exists) throw new ArgumentException($"--set {assignment}: unknown field '{key}'.");
        return JsonNamingPolicy.CamelCase.ConvertName(key);
    }

    private static bool Contains(JsonNode node, string key) =>
        node is JsonObject o && o.Any(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase) || (kv.Value is not null && Contains(kv.Value, key)));
}
