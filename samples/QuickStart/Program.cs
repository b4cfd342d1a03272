using GenRec.Data;
using GenRec.Inference;
using GenRec.Model;
using GenRec.Training;
using static TorchSharp.torch;

// Any --data form works here: DataSource.Open("ratings.csv"), a MovieLens folder, or a folder made by genrec prepare.
using var data = args.Length > 0 ? DataSource.Open(args[0])
    : DataSource.FromRatings(SyntheticData.Generate(new SyntheticOptions { Users = 300, Items = 200, Seed = 1 }));
var config = new ExperimentConfig
{
    Model = new ModelConfig { MaxLength = 50 },
    Training = new TrainingConfig { Epochs = 3 },
};

using (var trainer = new Trainer(config, data, CPU))
{
    trainer.Run();
    trainer.Save("model.ckpt");
}

using var recommender = RecommendationPipeline.Load(data, "model.ckpt", null, CPU);
string user = data.UserKey(0);
var history = data.Latest(user, recommender.RetrievalWindow, recommender.RetrievalFeatures)!;
var seen = history.HistoryItems.ToHashSet();
foreach (var (item, score) in recommender.Retrieve(history, 5, seen))
    Console.WriteLine($"user {user}: item {data.ItemKeys[(int)item - 1]} ({score:F3})");
