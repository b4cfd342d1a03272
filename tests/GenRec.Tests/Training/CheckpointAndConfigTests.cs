using System.Text.Json.Nodes;
using GenRec.Model;
using static TorchSharp.torch;

namespace GenRec.Tests.Training;

public class CheckpointAndConfigTests
{
    [Fact]
    public void CheckpointRoundTripsWeightsAndConfig()
    {
        using var dir = new TempDir();
        var cfg = new ExperimentConfig { Name = "x", Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 2, QkDim = 4, VDim = 4, MaxLength = 10 } };
        using var model = SequenceEncoder.Create(cfg.Model, 30);
        var path = Path.Combine(dir.Path, "c.ckpt");
        new Checkpoint { Config = cfg, ItemTableSize = 30, Dataset = "d", Epoch = 3 }.Save(path, model);
        var (info, loaded) = Checkpoint.Load(path, CPU);
        using (loaded)
        {
            Assert.Equal(cfg, info.Config with { });
            Assert.Equal(3, info.Epoch);
            Assert.True(model.ItemEmbeddings.weight!.allclose(loaded.ItemEmbeddings.weight!));
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void DamagedCheckpointsGiveClearErrors()
    {
        using var dir = new TempDir();
        var junk = dir.Write("junk.ckpt", "hello world, not a checkpoint");
        Assert.Contains("not a GenRec checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(junk, CPU)).Message);

        var cfg = new ExperimentConfig { Model = new ModelConfig { EmbeddingDim = 8, NumLayers = 1, NumHeads = 1, QkDim = 8, VDim = 8, MaxLength = 5 } };
        using var model = SequenceEncoder.Create(cfg.Model, 10);
        var good = Path.Combine(dir.Path, "good.ckpt");
        new Checkpoint { Config = cfg, ItemTableSize = 10 }.Save(good, model);
        var bytes = File.ReadAllBytes(good);
        var cut = Path.Combine(dir.Path, "cut.ckpt");
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 40)]);
        Assert.Contains(cut, Assert.Throws<InvalidDataException>(() => Checkpoint.Load(cut, CPU)).Message);
        Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(Path.Combine(dir.Path, "none.ckpt"), CPU));
    }

    [Fact]
    public void ConfigFilesLoadAndOverridesApply()
    {
        using var dir = new TempDir();
        var file = dir.Write("c.json", """
            { // comment
              "name": "t", "model": { "encoder": "hstu", "numLayers": 3 }, "training": { "epochs": 5 }
            }
            """);
        var c = ExperimentConfig.Load(file, ["model.numLayers=4", "training.learningRate=0.01", "training.split=validation", "model.dropout=0"]);
        Assert.Equal(4, c.Model.NumLayers);
        Assert.Equal(0.01, c.Training.LearningRate);
        Assert.Equal("validation", c.Training.Split);
        Assert.Equal(0.0, c.Model.Dropout);
        Assert.Equal(5, c.Training.Epochs);
        Assert.Equal(211, c.Model.PaddedLength);
    }

    [Fact]
    public void ConfigMistakesNameTheField()
    {
        using var dir = new TempDir();
        var typo = dir.Write("typo.json", """{ "model": { "numLayer": 3 } }""");
        Assert.Contains("numLayer", Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(typo)).Message);
        Assert.Contains("unknown field 'nope'", Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(null, ["model.nope=1"])).Message);
        Assert.Contains("model.numHeads", Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(null, ["model.numHeads=0"])).Message);
        Assert.Contains("training.split", Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(null, ["training.split=later"])).Message);
        var bad = dir.Write("bad.json", "{ \"model\": ");
        Assert.Contains("invalid JSON", Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(bad)).Message);
    }

    [Fact]
    public void RepositoryConfigsMatchThePaper()
    {
        string root = AppContext.BaseDirectory;
        while (!Directory.Exists(Path.Combine(root, "configs"))) root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("configs/");
        var hstu = ExperimentConfig.Load(Path.Combine(root, "configs/ml-1m/hstu.json"));
        Assert.Equal((2, 1, 50, 50, 50, 200, 128, 0.2, 101), (hstu.Model.NumLayers, hstu.Model.NumHeads, hstu.Model.QkDim, hstu.Model.VDim, hstu.Model.EmbeddingDim, hstu.Model.MaxLength, hstu.Training.NumNegatives, hstu.Model.Dropout, hstu.Training.Epochs));
        var large = ExperimentConfig.Load(Path.Combine(root, "configs/ml-1m/hstu-large.json"));
        Assert.Equal((8, 2, 25, 25), (large.Model.NumLayers, large.Model.NumHeads, large.Model.QkDim, large.Model.VDim));
        var sas = ExperimentConfig.Load(Path.Combine(root, "configs/ml-1m/sasrec.json"));
        Assert.Equal(("sasrec", 2, 1), (sas.Model.Encoder, sas.Model.NumLayers, sas.Model.NumHeads));
        _ = JsonNode.Parse(hstu.ToJson());
    }

    [Fact]
    public void RetiredOptionsReadAtTheirOnlyValueAndAreRefusedOtherwise()
    {
        Assert.Equal(ExperimentConfig.Load(null).ToJson(), ExperimentConfig.Load(null, ["training.packSequences=true"]).ToJson());
        var e = Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(null, ["training.packSequences=false"]));
        Assert.Contains("training.packSequences = false is retired", e.Message);
        Assert.Contains("ranking.startAtBaseRates = true is retired",
            Assert.Throws<ArgumentException>(() => ExperimentConfig.Load(null, ["ranking.startAtBaseRates=true"])).Message);
    }
}
