namespace GenRec.Data;

/// <summary>A user's whole history, oldest first (stable by timestamp, ties keep file order).</summary>
/// <param name="UserId">Raw user id.</param>
/// <param name="Items">Raw item ids.</param>
/// <param name="Timestamps">Event times, same length as <paramref name="Items"/>.</param>
/// <param name="Ratings">Ratings, same length as <paramref name="Items"/>.</param>
public sealed record UserSequence(long UserId, long[] Items, long[] Timestamps, float[] Ratings)
{
    /// <summary>Number of events.</summary>
    public int Length => Items.Length;
}
