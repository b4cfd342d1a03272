using System.Globalization;
using System.Text.Json.Nodes;

namespace GenRec.Model.Interop;

/// <summary>
/// The configuration file beside an official HSTU model (meta-recsys/generative-recommenders, <c>research/</c>):
/// its <c>model</c> section (the constructor arguments of <c>HSTU</c>, in the official names) and its gin bindings
/// of <c>train_fn</c>. The fixture in tests/fixtures/official-hstu has this layout; <see cref="OfficialHstu.Export"/>
/// writes it, with the item keys added.
/// </summary>
public sealed record OfficialConfig
{
    /// <summary>The architecture in GenRec's terms.</summary>
    public required ModelConfig Model { get; init; }

    /// <summary>The training settings the official run used (what GenRec would train the model on with).</summary>
    public required TrainingConfig Training { get; init; }

    /// <summary>
    /// The item each row of the item table stands for (row r is <c>ItemKeys[r − 1]</c>), when the file lists them
    /// (GenRec's exports); null: the official datasets' own numbering, where row r is the item whose id is r.
    /// </summary>
    public IReadOnlyList<string>? ItemKeys { get; init; }

    /// <summary>
    /// Reads <paramref name="path"/>. Settings GenRec does not compute (another normalisation, activation or
    /// projection layout) are refused with the field and the value GenRec supports.
    /// </summary>
    public static OfficialConfig Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: the official model's config file was not found.", path);
        JsonNode root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path}: empty file.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e);
        }
        var model = root["model"] as JsonObject
            ?? throw new InvalidDataException($"{path}: no \"model\" section.");
        var train = root["gin_file_bindings"]?["train_fn"] as JsonObject ?? new JsonObject();
        var defaults = root["hstu_encoder_defaults_used"] as JsonObject ?? new JsonObject();

        Expect(path, "model.normalization", Setting(model, defaults, "normalization"), "rel_bias");
        Expect(path, "model.linear_activation", Setting(model, defaults, "linear_activation"), "silu");
        Expect(path, "model.linear_config", Setting(model, defaults, "linear_config"), "uvqk");
        if (model["concat_ua"]?.GetValue<bool>() == true)
            throw new InvalidDataException($"{path}: model.concat_ua is true; GenRec's HSTU computes false only.");
        double input = Number(path, model, "input_dropout_rate"), linear = Number(path, model, "linear_dropout_rate");
        if (input != linear)
            throw new InvalidDataException($"{path}: model.input_dropout_rate {input} differs from "
                + $"model.linear_dropout_rate {linear}; GenRec uses one rate for both (model.dropout).");

        var config = new ModelConfig
        {
            Encoder = "hstu",
            EmbeddingDim = Int(path, model, "embedding_dim"),
            NumLayers = Int(path, model, "num_blocks"),
            NumHeads = Int(path, model, "num_heads"),
            QkDim = Int(path, model, "attention_dim_dqk"),
            VDim = Int(path, model, "linear_dim_dv"),
            MaxLength = Int(path, model, "max_sequence_length"),
            ReservedPositions = Int(path, model, "max_output_length"),
            Dropout = linear,
            AttentionDropout = Number(path, model, "attn_dropout_rate"),
            TimeBuckets = model["relative_attention_bias"] is JsonObject rab ? Int(path, rab, "num_buckets") : 128,
        };
        var defaultsT = new TrainingConfig();
        var training = defaultsT with
        {
            Epochs = Optional(train, "num_epochs", defaultsT.Epochs),
            BatchSize = Optional(train, "local_batch_size", defaultsT.BatchSize),
            LearningRate = Optional(train, "learning_rate", defaultsT.LearningRate),
            WeightDecay = Optional(train, "weight_decay", defaultsT.WeightDecay),
            NumNegatives = Optional(train, "num_negatives", defaultsT.NumNegatives),
            Temperature = Optional(train, "temperature", defaultsT.Temperature),
        };
        try { config.Validate(); training.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        var keys = root["item_keys"] is JsonArray a ? a.Select(k => k!.GetValue<string>()).ToList() : null;
        return new OfficialConfig { Model = config, Training = training, ItemKeys = keys };
    }

    /// <summary>
    /// The file's JSON: <paramref name="model"/> and <paramref name="training"/> under the official names, and the
    /// item keys.
    /// </summary>
    public static JsonObject ToJson(ModelConfig model, TrainingConfig training, IReadOnlyList<string> itemKeys) => new()
    {
        ["format"] = "GenRec export of an HSTU retrieval model under the official code's parameter names",
        ["model"] = new JsonObject
        {
            ["class"] = "generative_recommenders.research.modeling.sequential.hstu.HSTU",
            ["embedding_dim"] = model.EmbeddingDim,
            ["item_embedding_dim"] = model.EmbeddingDim,
            ["num_items (max_item_id)"] = itemKeys.Count,
            ["num_blocks"] = model.NumLayers,
            ["num_heads"] = model.NumHeads,
            ["attention_dim_dqk"] = model.QkDim,
            ["linear_dim_dv"] = model.VDim,
            ["max_sequence_length"] = model.MaxLength,
            ["max_output_length"] = model.ReservedPositions,
            ["input_dropout_rate"] = model.Dropout,
            ["linear_dropout_rate"] = model.Dropout,
            ["attn_dropout_rate"] = model.AttentionDropout,
            ["normalization"] = "rel_bias",
            ["linear_config"] = "uvqk",
            ["linear_activation"] = "silu",
            ["concat_ua"] = false,
            ["relative_attention_bias"] = new JsonObject { ["num_buckets"] = model.TimeBuckets },
            ["layer_norm_eps"] = 1e-6,
            ["l2_norm_eps"] = SequenceEncoder.NormEps,
        },
        ["gin_file_bindings"] = new JsonObject
        {
            ["train_fn"] = new JsonObject
            {
                ["max_sequence_length"] = model.MaxLength,
                ["item_embedding_dim"] = model.EmbeddingDim,
                ["dropout_rate"] = model.Dropout,
                ["num_epochs"] = training.Epochs,
                ["local_batch_size"] = training.BatchSize,
                ["learning_rate"] = training.LearningRate,
                ["weight_decay"] = training.WeightDecay,
                ["num_negatives"] = training.NumNegatives,
                ["temperature"] = training.Temperature,
                ["user_embedding_norm"] = "l2_norm",
                ["item_l2_norm"] = true,
                ["l2_norm_eps"] = SequenceEncoder.NormEps,
                ["interaction_module_type"] = "DotProduct",
                ["loss_module"] = "SampledSoftmaxLoss",
                ["sampling_strategy"] = "local",
            },
            ["hstu_encoder"] = new JsonObject
            {
                ["num_blocks"] = model.NumLayers,
                ["num_heads"] = model.NumHeads,
                ["dqk"] = model.QkDim,
                ["dv"] = model.VDim,
                ["linear_dropout_rate"] = model.Dropout,
            },
        },
        ["item_keys"] = new JsonArray([.. itemKeys.Select(k => (JsonNode)JsonValue.Create(k))]),
    };

    private static string? Setting(JsonObject model, JsonObject defaults, string key) =>
        (model[key] ?? defaults[key])?.GetValue<string>();

    private static void Expect(string path, string field, string? value, string supported)
    {
        if (value is not null && value != supported)
            throw new InvalidDataException($"{path}: {field} is '{value}'; GenRec's HSTU computes '{supported}' only.");
    }

    private static int Int(string path, JsonObject o, string key) =>
        checked((int)Number(path, o, key));

    private static double Number(string path, JsonObject o, string key)
    {
        var node = o[key] ?? throw new InvalidDataException($"{path}: model.{key} is missing.");
        try { return node.GetValue<double>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: model.{key} is {node.ToJsonString()}; expected a number.", e);
        }
    }

    private static T Optional<T>(JsonObject o, string key, T fallback) where T : struct =>
        o[key] is JsonValue v
            ? (T)Convert.ChangeType(v.GetValue<double>(), typeof(T), CultureInfo.InvariantCulture)
            : fallback;
}
