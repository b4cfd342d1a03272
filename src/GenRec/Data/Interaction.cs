namespace GenRec.Data;

/// <summary>One engagement: a user acted on an item at a time, with a rating (or 1 where the source has none).</summary>
/// <param name="UserId">Raw user id as in the source.</param>
/// <param name="ItemId">Raw item id as in the source (0 is reserved for padding).</param>
/// <param name="Rating">Explicit rating, or 1 for implicit feedback.</param>
/// <param name="Timestamp">Seconds since the Unix epoch (any monotone unit works; the time bias buckets by log-difference).</param>
public readonly record struct Interaction(long UserId, long ItemId, float Rating, long Timestamp);
