namespace GenRec.Data.Features;

/// <summary>What a source holds, decided by its key columns.</summary>
public enum SourceKind
{
    /// <summary>User and item columns: engagements, the main time series.</summary>
    Events,
    /// <summary>A user column only: contextual or auxiliary user features.</summary>
    UserFeatures,
    /// <summary>An item column only: item side features and titles.</summary>
    ItemFeatures,
    /// <summary>Neither key (an error).</summary>
    Unkeyed,
}
