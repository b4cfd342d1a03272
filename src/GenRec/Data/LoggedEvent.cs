namespace GenRec.Data;

/// <summary>
/// One item event of an event log that incremental training reads: keys as the source spells them, and the event's
/// place in the log (<paramref name="Seq"/>, rising in arrival order: the store's sequence number, or the line
/// number of a file). The watermark of a run is a <paramref name="Seq"/>.
/// </summary>
/// <param name="Seq">Position in the log, rising.</param>
/// <param name="User">The user's key.</param>
/// <param name="Item">The item's key.</param>
/// <param name="Timestamp">Unix seconds.</param>
public sealed record LoggedEvent(long Seq, string User, string Item, long Timestamp);
