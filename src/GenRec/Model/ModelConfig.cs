using System.Text.Json.Serialization;

namespace GenRec.Model;

/// <summary>Architecture of a sequential retrieval model. Defaults are the paper's ML-1M HSTU config.</summary>
public sealed record ModelConfig
{
    /// <summary><c>hstu</c> (the paper's encoder) or <c>sasrec</c> (the softmax Transformer baseline).</summary>
    public string Encoder { get; init; } = "hstu";

    /// <summary>Model width D (item and position embedding size).</summary>
    public int EmbeddingDim { get; init; } = 50;

    /// <summary>Number of stacked layers.</summary>
    public int NumLayers { get; init; } = 2;

    /// <summary>Attention heads H.</summary>
    public int NumHeads { get; init; } = 1;

    /// <summary>Query/key size per head d_qk (HSTU).</summary>
    public int QkDim { get; init; } = 50;

    /// <summary>Value size per head d_v (HSTU).</summary>
    public int VDim { get; init; } = 50;

    /// <summary>Longest history the model reads.</summary>
    public int MaxLength { get; init; } = 200;

    /// <summary>
    /// Extra positions reserved for generated outputs. The normaliser N of HSTU's pointwise attention and the size of the
    /// position tables is MaxLength + ReservedPositions (the reference: 200 + 10 + 1 = 211).
    /// </summary>
    public int ReservedPositions { get; init; } = 11;

    /// <summary>Dropout on the input embeddings and on each layer's output projection input.</summary>
    public double Dropout { get; init; } = 0.2;

    /// <summary>Dropout on attention weights.</summary>
    public double AttentionDropout { get; init; } = 0.0;

    /// <summary>Number of log-scale time buckets of the relative attention bias, plus one (the reference: 128 → 129 weights).</summary>
    public int TimeBuckets { get; init; } = 128;

    /// <summary>
    /// Interleaved ranking only: an action token a_i's input is its action embedding plus the embedding of the item
    /// Φ_i it reacts to (true), or the action embedding alone (false, the paper's literal form). With the item in the
    /// action token one layer can relate a candidate to the user's past reactions to similar items; without it the
    /// encoder must first pair each a_i with the Φ_i before it, which it learns far more slowly (docs/results/ranking.md).
    /// </summary>
    public bool ActionTokenCarriesItem { get; init; } = true;

    /// <summary>The SASRec layout of the official generative-recommenders code (the default).</summary>
    public const string OfficialSasRec = "official";

    /// <summary>The SASRec layout of Kang &amp; McAuley's code (learned layer norms and a final layer norm).</summary>
    public const string Kang2018SasRec = "kang2018";

    /// <summary>
    /// SASRec only: <c>official</c> computes the generative-recommenders code's SASRec, the paper's baseline row;
    /// <c>kang2018</c> the original paper's layout (<see cref="SasRecEncoder"/>; docs/design/parity.md measures
    /// both).
    /// </summary>
    public string SasRecLayout { get; init; } = OfficialSasRec;

    /// <summary>N: the padded sequence length of the model (see <see cref="ReservedPositions"/>).</summary>
    [JsonIgnore]
    public int PaddedLength => MaxLength + ReservedPositions;

    /// <summary>Checks the values and throws a message naming the field.</summary>
    public void Validate()
    {
        if (Encoder is not ("hstu" or "sasrec")) throw new ArgumentException($"model.encoder is '{Encoder}'; expected hstu or sasrec.");
        Positive(EmbeddingDim, "model.embeddingDim");
        Positive(NumLayers, "model.numLayers");
        Positive(NumHeads, "model.numHeads");
        Positive(QkDim, "model.qkDim");
        Positive(VDim, "model.vDim");
        Positive(MaxLength, "model.maxLength");
        Positive(TimeBuckets, "model.timeBuckets");
        if (ReservedPositions < 1) throw new ArgumentException($"model.reservedPositions is {ReservedPositions}; expected at least 1 (the query position).");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"model.dropout is {Dropout}; expected 0 ≤ dropout < 1.");
        if (AttentionDropout is < 0 or >= 1) throw new ArgumentException($"model.attentionDropout is {AttentionDropout}; expected 0 ≤ value < 1.");
        if (SasRecLayout is not (OfficialSasRec or Kang2018SasRec))
            throw new ArgumentException(
                $"model.sasRecLayout is '{SasRecLayout}'; expected {OfficialSasRec} or {Kang2018SasRec}.");
        if (Encoder == "sasrec" && EmbeddingDim % NumHeads != 0)
            throw new ArgumentException($"model.embeddingDim {EmbeddingDim} must be divisible by model.numHeads {NumHeads} for sasrec.");
    }

    private static void Positive(int v, string name)
    {
        if (v < 1) throw new ArgumentException($"{name} is {v}; expected a positive integer.");
    }
}
