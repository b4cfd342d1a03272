namespace GenRec.Data.Features;

/// <summary>The polarity of an action, which decides the supervision mask.</summary>
public enum Feedback : byte
{
    /// <summary>Neither positive nor negative (for example a 3-star rating); trained on.</summary>
    Neutral = 0,
    /// <summary>Positive feedback; trained on.</summary>
    Positive = 1,
    /// <summary>Negative feedback (low rating, dislike, skip): the position before it gets no retrieval loss.</summary>
    Negative = 2,
}
