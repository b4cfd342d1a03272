using System.CommandLine;
using System.Globalization;
using GenRec.Data;

namespace GenRec.Cli.Commands;

/// <summary>
/// <c>genrec generate-ratings</c>: a synthetic user,item,rating,timestamp CSV with real sequential structure
/// (<see cref="SyntheticData"/>) and history lengths of your choosing — long-history data for stochastic-length and
/// scaling experiments, without downloads.
/// </summary>
internal static class GenerateRatingsCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "CSV file to write (user,item,rating,timestamp).", Required = true };
        var users = new Option<int>("--users") { Description = "Users.", DefaultValueFactory = _ => 1500 };
        var items = new Option<int>("--items") { Description = "Items.", DefaultValueFactory = _ => 1200 };
        var interests = new Option<int>("--interests") { Description = "Latent interests items belong to.", DefaultValueFactory = _ => 24 };
        var minLength = new Option<int>("--min-length") { Description = "Shortest history.", DefaultValueFactory = _ => 20 };
        var maxLength = new Option<int>("--max-length") { Description = "Longest history (users run out of unseen liked items earlier if interests hold too few items).", DefaultValueFactory = _ => 120 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 7 };
        var lifetime = new Option<double>("--item-lifetime-days")
        {
            Description = "A changing catalog: each item is born at a random time over the log's year and can be "
                + "chosen only this many days after it; 0 (default): every item always available.",
            DefaultValueFactory = _ => 0,
        };
        var cmd = new Command("generate-ratings", "Write a synthetic ratings CSV (sequential structure: interests, drifting, item chains) with history lengths you choose.")
        {
            output, users, items, interests, minLength, maxLength, seed, lifetime,
        };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var data = SyntheticData.Generate(new SyntheticOptions
            {
                Users = r.GetValue(users),
                Items = r.GetValue(items),
                Interests = r.GetValue(interests),
                MinLength = r.GetValue(minLength),
                MaxLength = r.GetValue(maxLength),
                Seed = r.GetValue(seed),
                ItemLifetimeDays = r.GetValue(lifetime) >= 0 ? r.GetValue(lifetime)
                    : throw new ArgumentException($"--item-lifetime-days {r.GetValue(lifetime)}: expected 0 or more."),
            });
            var path = r.GetValue(output)!;
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(dir);
            var tmp = path + ".tmp";
            using (var w = new StreamWriter(tmp))
            {
                w.WriteLine("user,item,rating,timestamp");
                foreach (var u in data.Users)
                    for (int i = 0; i < u.Length; i++)
                        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{u.UserId},{u.Items[i]},{u.Ratings[i]},{u.Timestamps[i]}"));
            }
            File.Move(tmp, path, overwrite: true);
            var lengths = data.Users.Select(u => u.Length).Order().ToArray();
            Console.WriteLine($"wrote {data.NumEvents:N0} ratings of {data.Users.Count:N0} users and {data.Corpus.Length:N0} items to {path}; history length min {lengths[0]:N0}, median {lengths[lengths.Length / 2]:N0}, max {lengths[^1]:N0}");
            return 0;
        }));
        return cmd;
    }
}
