namespace GenRec.Tests.Native;

/// <summary>
/// A test that needs Debian's Open MPI (mpirun): skipped where it is missing, unless GENREC_REQUIRE_MPI=1 (set by
/// .ci/run, which installs it) makes that a failure.
/// </summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        bool installed = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
            .Any(d => File.Exists(Path.Combine(d, "mpirun")));
        if (!installed && Environment.GetEnvironmentVariable("GENREC_REQUIRE_MPI") != "1")
            Skip = "mpirun is not installed (.ci/run installs openmpi-bin and sets GENREC_REQUIRE_MPI=1).";
    }
}
