namespace GenRec.Data.Features;

/// <summary>Progress of a sequence build: the phase, and how far through its input bytes or partitions it is.</summary>
/// <param name="Phase">What is happening (for example "read ratings.dat", "sort and write").</param>
/// <param name="Done">Units done.</param>
/// <param name="Total">Units in all.</param>
public readonly record struct BuildProgress(string Phase, long Done, long Total);
