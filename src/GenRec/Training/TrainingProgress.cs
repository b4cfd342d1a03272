namespace GenRec.Training;

/// <summary>A progress report after each training step (for progress bars).</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">Running mean loss of the epoch.</param>
/// <param name="StepsPerSecond">Steps per second so far in the epoch.</param>
/// <param name="Phase">"train" or "eval".</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double StepsPerSecond, string Phase = "train");
