namespace GenRec.Tests.Cli;

/// <summary>Probes from the adversarial and newcomer runs (issue 18) that must stay fixed.</summary>
public class CliHardeningTests
{
    [Theory]
    [InlineData("--help", "genrec [command] [options]")]
    [InlineData("train --help", "genrec train [options]")]
    [InlineData("bench train --help", "genrec bench train [options]")]
    public void UsageLinesNameTheCommandGenrecHoweverItIsStarted(string args, string usage)
    {
        var (code, output) = GenRecCli.Run(args.Split(' '));
        Assert.Equal(0, code);
        Assert.Contains("Usage:\n  " + usage, output.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("GenRec.Cli", output);
    }

    /// <summary>README, "Commands": which commands take --device and --threads.</summary>
    [Theory]
    [InlineData("demo", true)]
    [InlineData("train", true)]
    [InlineData("eval", true)]
    [InlineData("recommend", true)]
    [InlineData("rank-train", true)]
    [InlineData("rank", true)]
    [InlineData("serve", true)]
    [InlineData("bench train", true)]
    [InlineData("bench attention", true)]
    [InlineData("bench infer", true)]
    [InlineData("bench mfalcon", true)]
    [InlineData("bench scaling", false)]
    public void CommandsThatComputeWithTensorsTakeThreadsAndDevice(string command, bool device)
    {
        var (_, output) = GenRecCli.Run([.. command.Split(' '), "--help"]);
        Assert.Contains("--threads", output);
        Assert.Equal(device, output.Contains("--device"));
    }

    [Fact]
    public void MoreThreadsThanCoresAreRefusedWithTheRange()
    {
        var (code, output) = GenRecCli.Run("eval", "--checkpoint", "none.ckpt", "--data", "none", "--threads", "9999");
        Assert.Equal(1, code);
        Assert.Contains($"--threads 9999: expected 0 (all cores) or 1 to {Environment.ProcessorCount}", output);
    }

    [Fact]
    public void ValidationMetricsOfAModelTrainedOnTheValidationItemNeedForce()
    {
        using var dir = new TempDir();
        var csv = Path.Combine(dir.Path, "r.csv");
        var run = Path.Combine(dir.Path, "run");
        Assert.Equal(0, GenRecCli.Run("generate-ratings", "--out", csv, "--users", "60", "--items", "400",
            "--min-length", "5", "--max-length", "12").ExitCode);
        var config = Path.Combine(Repository.Root, "configs/ml-1m/hstu.json");
        var (trained, log) = GenRecCli.Run("train", "--config", config,
            "--data", csv, "--epochs", "1", "--set", "model.maxLength=12", "--out", run, "--threads", "1");
        Assert.True(trained == 0, log);
        var ckpt = Path.Combine(run, "checkpoint.ckpt");
        var (code, output) = GenRecCli.Run("eval", "--checkpoint", ckpt, "--data", csv, "--split", "validation",
            "--threads", "1");
        Assert.Equal(1, code);
        Assert.Contains("was trained with training.split=test", output);
        Assert.Equal(0, GenRecCli.Run("eval", "--checkpoint", ckpt, "--data", csv, "--split", "validation", "--force",
            "--threads", "1").ExitCode);
        Assert.Equal(0, GenRecCli.Run("eval", "--checkpoint", ckpt, "--data", csv, "--threads", "1").ExitCode);
    }

    [Theory]
    [InlineData(new[] { "train", "--data", "x", "--epochs", "abc" },
        "genrec: error: --epochs abc: expected a whole number.")]
    [InlineData(new[] { "trian" }, "unknown command 'trian' (did you mean train?); commands: ")]
    [InlineData(new[] { "import" }, "genrec: error: 'import' needs a command: official.")]
    [InlineData(new[] { "train", "--config", "CONFIG", "--data", "x", "--set", "model.numLayers=abc" },
        "genrec: error: --set model.numLayers=abc: model.numLayers expects a whole number.")]
    public void CommandLineMistakesGetOneLineNamingTheOptionAndWhatIsExpected(string[] args, string message)
    {
        var config = Path.Combine(Repository.Root, "configs/ml-1m/hstu.json");
        var (code, output) = GenRecCli.Run([.. args.Select(a => a == "CONFIG" ? config : a)]);
        Assert.Equal(1, code);
        Assert.Contains(message, output);
        Assert.Single(output.Split('\n'), l => l.Length > 0);
        Assert.DoesNotContain("Usage:", output);
    }

    [Fact]
    public void ConfigFieldMistakesNameTheFieldWithASuggestion()
    {
        using var dir = new TempDir();
        var typo = dir.Write("typo.json", """{ "model": { "numLayer": 3 } }""");
        var e = Assert.Throws<ArgumentException>(() => GenRec.Model.ExperimentConfig.Load(typo));
        Assert.Equal($"{typo}: unknown field model.numLayer (did you mean model.numLayers?).", e.Message);
        var wrong = dir.Write("wrong.json", """{ "training": { "learningRate": "fast" } }""");
        e = Assert.Throws<ArgumentException>(() => GenRec.Model.ExperimentConfig.Load(wrong));
        Assert.Equal($"{wrong}: training.learningRate is \"fast\"; expected a number.", e.Message);
    }
}
