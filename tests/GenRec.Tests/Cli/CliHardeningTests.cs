namespace GenRec.Tests.Cli;

/// <summary>Probes from the adversarial and newcomer runs (issue 18) that must stay fixed.</summary>
public class CliHardeningTests
{
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
}
