using System.Runtime.InteropServices;

namespace GenRec.Data.Features;

/// <summary>
/// One token of a user's unified sequence, 16 bytes as stored in <c>tokens.bin</c>: an item engagement
/// (<see cref="Kind"/> 0) or a feature token (kind k ≥ 1, see <see cref="FeatureSpace.TokenKinds"/>).
/// </summary>
/// <param name="Timestamp">Event time; a contextual token carries the time of the user's first timed token.</param>
/// <param name="Value">Item id (dense, 1-based) or feature value id (1-based; 0 is padding).</param>
/// <param name="Action">Action id at item tokens (1-based into <see cref="FeatureSpace.Actions"/>; 0: none).</param>
/// <param name="Kind">0 for an item, k for the k-th feature kind.</param>
/// <param name="Flags">Bits 0–1: <see cref="Features.Feedback"/>; bit 2: supervised (the next token is an item that is not negative feedback).</param>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public readonly record struct Token(long Timestamp, int Value, ushort Action, byte Kind, byte Flags)
{
    /// <summary>The kind of an action token in an interleaved ranking sequence (Φ0, a0, Φ1, a1, …); its value is the action id.</summary>
    public const byte ActionKind = 255;

    /// <summary>The flag bit of m_i = 1.</summary>
    public const byte SupervisedBit = 4;

    /// <summary>Whether this is an item token.</summary>
    public bool IsItem => Kind == 0;

    /// <summary>The polarity of the action on this item.</summary>
    public Feedback Feedback => (Feedback)(Flags & 3);

    /// <summary>The supervision mask m_i as prepared (with negative feedback masked).</summary>
    public bool Supervised => (Flags & SupervisedBit) != 0;
}
