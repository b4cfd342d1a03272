namespace GenRec.Training;

/// <summary>Training met a non-finite loss or gradient and stopped before the weights changed; the message names the epoch and step.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception with its message.</summary>
    public TrainingDivergedException(string message) : base(message) { }
}
