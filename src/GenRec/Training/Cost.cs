namespace GenRec.Training;

/// <summary>The compute a piece of training took: optimiser steps, non-padding tokens and wall seconds.</summary>
/// <param name="Steps">Optimiser steps.</param>
/// <param name="Tokens">Non-padding tokens processed (forward and backward).</param>
/// <param name="Seconds">Wall-clock seconds.</param>
public sealed record Cost(int Steps, long Tokens, double Seconds)
{
    /// <summary>No training.</summary>
    public static Cost Zero { get; } = new(0, 0, 0);

    /// <summary>From what
    /// <see cref="Trainer.TrainOn(System.Collections.Generic.IReadOnlyList{GenRec.Data.TokenWindow}, long[], int)"/>
    /// returns.</summary>
    internal static Cost Of((int Steps, long Tokens, double Seconds) c) => new(c.Steps, c.Tokens, c.Seconds);

    /// <summary>Both together.</summary>
    public static Cost operator +(Cost a, Cost b) =>
        new(a.Steps + b.Steps, a.Tokens + b.Tokens, a.Seconds + b.Seconds);
}
