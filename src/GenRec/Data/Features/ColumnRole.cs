namespace GenRec.Data.Features;

/// <summary>What a source column means in the unified feature space.</summary>
public enum ColumnRole
{
    /// <summary>The user id: the key every user-side source joins on.</summary>
    User,
    /// <summary>The item id: the main series' token and the key item sources join on.</summary>
    Item,
    /// <summary>Event time, integer seconds since the Unix epoch (any monotone integer unit works).</summary>
    Timestamp,
    /// <summary>An action taken on the item (rating, click, like …), with its polarity for the supervision mask.</summary>
    Action,
    /// <summary>A user feature without time (demographics): becomes a contextual token at the start of the sequence.</summary>
    Contextual,
    /// <summary>A slowly-changing user feature with time: compressed per window and merged into the series as its own tokens.</summary>
    Auxiliary,
    /// <summary>An item side feature (genres, category): summed into the item's embedding.</summary>
    ItemFeature,
    /// <summary>The item's display name.</summary>
    Title,
    /// <summary>A dense, fast-changing feature (CTR, counters): accepted and dropped — the model learns it from the sequence.</summary>
    Dense,
    /// <summary>A column to skip.</summary>
    Ignore,
}
