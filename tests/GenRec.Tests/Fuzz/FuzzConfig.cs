using FsCheck;
using Microsoft.FSharp.Core;

namespace GenRec.Tests.Fuzz;

/// <summary>
/// FsCheck settings shared by the fuzz tests. A fixed seed by default, so that every CI run tries the same cases and a
/// red run means the change broke something, not that a new random case turned up; set GENREC_FUZZ_SEED=random to
/// explore new cases (a failure prints the seed to replay), or to a number to replay one. Cases found that way are
/// kept as named regression tests (see ParserFuzzTests.ParquetFileWithADamagedColumnChunkIsRefusedNamingTheFile).
/// </summary>
internal static class FuzzConfig
{
    private const ulong DefaultSeed = 20_261_129;

    /// <summary>Throw on the first failure, run <paramref name="cases"/> cases, print nothing on success.</summary>
    public static Config Cases(int cases)
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(cases).WithQuietOnSuccess(true);
        string? seed = Environment.GetEnvironmentVariable("GENREC_FUZZ_SEED");
        if (seed == "random") return config;
        ulong value = seed is null ? DefaultSeed : ulong.Parse(seed, System.Globalization.CultureInfo.InvariantCulture);
        return config.WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(value), FSharpOption<int>.None)));
    }
}
