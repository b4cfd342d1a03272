namespace GenRec.Tests.Training;

/// <summary>
/// genrec bench scale-model: the projection's byte counts agree with what a step of the dense and the sharded exchange
/// moves, and a malformed measurement is refused with the expected form.
/// </summary>
public class ScaleModelTests
{
    [Fact]
    public void TheModelReproducesTheBytesOfTheDenseAllReduceAndRefusesAMalformedCheck()
    {
        using var dir = new TempDir();
        var png = Path.Combine(dir.Path, "model.png");
        // The dense all-reduce of configs/ml-1m/hstu.json with 3,587 items at 2 ranks: the flat buffer,
        // 4 bytes × (3,587 × 50 + the encoder's parameters).
        var (code, output) = GenRecCli.Run("bench", "scale-model", "--ranks", "8,64", "--gbps", "10",
            "--check", "dense:2:3587:6350:0.82", "--plot", png);
        Assert.True(code == 0, output);
        Assert.Matches(@"check dense, 2 ranks, 3,587 items, 6,350 tokens per rank: model 0\.8[0-9] MiB", output);
        Assert.Contains("best at 10 Gb/s, 100M items, 1B events: 8 ranks sharded, 64 ranks sharded", output);
        Assert.True(File.Exists(png));
        var bad = GenRecCli.Run("bench", "scale-model", "--check", "sharded:2:lots", "--plot", png);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--check 'sharded:2:lots': expected STRATEGY:RANKS:ITEMS:TOKENS_PER_RANK:MIB", bad.Output);
    }
}
