// libtorch's random generator is process-wide: tests that seed it (manual_seed) and then train or initialise a
// model must not interleave with others drawing from it, or "same seed, same run" stops holding.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
