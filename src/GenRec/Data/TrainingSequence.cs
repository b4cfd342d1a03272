namespace GenRec.Data;

/// <summary>
/// A training sequence: up to max length + 1 tokens. Plain item sequences supervise every position but the last with
/// the next item; sequences from a prepared feature space carry token kinds, actions and the mask m_i.
/// </summary>
/// <param name="UserId">Raw user id (plain data) or the user's row (prepared data).</param>
/// <param name="Items">Token values, oldest first: item ids, or feature value ids where <see cref="Kinds"/> is not 0.</param>
/// <param name="Timestamps">Their times.</param>
public sealed record TrainingSequence(long UserId, long[] Items, long[] Timestamps)
{
    /// <summary>Token kinds (0 = item); null when every token is an item.</summary>
    public byte[]? Kinds { get; init; }

    /// <summary>Action ids at item tokens (0 = none); null without actions.</summary>
    public int[]? Actions { get; init; }

    /// <summary>m_i: whether position i is trained to predict token i + 1; null means every position but the last.</summary>
    public bool[]? Supervised { get; init; }

    /// <summary>Whether position <paramref name="i"/> gets a next-item loss.</summary>
    public bool IsSupervised(int i) => Supervised is null ? i + 1 < Items.Length : Supervised[i];
}
