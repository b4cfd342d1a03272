using System.Text.Json.Serialization;

namespace GenRec.Data.Features;

/// <summary>One column of a source and its role in the unified feature space.</summary>
public sealed record ColumnSchema
{
    /// <summary>The column's name: matched against the header (CSV with a header, Parquet), or just a label for headerless files, whose columns are listed in order.</summary>
    public string Name { get; init; } = "";

    /// <summary>What the column means: user, item, timestamp, action, contextual, auxiliary, itemFeature, title, dense or ignore.</summary>
    public string Role { get; init; } = "";

    /// <summary>The parsed role (the schema is validated on load, so this never throws on a loaded schema).</summary>
    [JsonIgnore]
    public ColumnRole ParsedRole => Enum.TryParse<ColumnRole>(Role, ignoreCase: true, out var r) && !int.TryParse(Role, out _) ? r : (ColumnRole)(-1);

    /// <summary>Action values that are positive feedback: exact values, or comparisons such as <c>&gt;=4</c>.</summary>
    public List<string>? Positive { get; init; }

    /// <summary>Action values that are negative feedback (the next-item loss is masked): exact values or comparisons such as <c>&lt;=2</c>.</summary>
    public List<string>? Negative { get; init; }

    /// <summary>Action values that are neutral.</summary>
    public List<string>? Neutral { get; init; }

    /// <summary>The polarity of an action value that matches no list: positive, negative or neutral; unset makes such a value an error.</summary>
    public string? Otherwise { get; init; }

    /// <summary>Splits a multi-valued field (genres "Comedy|Drama") into several values.</summary>
    public string? Separator { get; init; }

    /// <summary>Hash values into this many buckets instead of keeping a vocabulary (high-cardinality ids: zip codes, creators).</summary>
    public int? HashBuckets { get; init; }

    /// <summary>Auxiliary series: the compression window in seconds (0: re-emit only on change).</summary>
    public long? WindowSeconds { get; init; }

    /// <summary>Feature name when it differs from the column name; several columns may feed one feature (one-hot genre flags).</summary>
    public string? Feature { get; init; }

    /// <summary>A 0/1 flag column: a true value ("1", "true") contributes the column's name as the feature's value; false contributes nothing.</summary>
    public bool Flag { get; init; }

    /// <summary>The feature this column feeds.</summary>
    [JsonIgnore]
    public string FeatureName => string.IsNullOrEmpty(Feature) ? Name : Feature;
}
