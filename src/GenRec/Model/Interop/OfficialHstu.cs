using System.Collections;
using System.Text.Json;
using GenRec.Data.Features;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace GenRec.Model.Interop;

/// <summary>
/// GenRec's HSTU under the official code's parameter names (meta-recsys/generative-recommenders, <c>research/</c>):
/// import of a <c>state_dict</c> saved by <c>torch.save</c> (or a safetensors file) with its config, and export to
/// safetensors that PyTorch and the official <c>HSTU</c> module load with <c>load_state_dict</c>. The two models
/// compute the same function from the same weights; tests/GenRec.Tests/Model/OfficialParityTests.cs binds them on
/// the official fixture (tests/fixtures/official-hstu), docs/design/parity.md lists every point compared.
/// </summary>
public static class OfficialHstu
{
    /// <summary>The item table E (row = item id; row 0 is padding).</summary>
    public const string ItemTable = "_embedding_module._item_emb.weight";

    /// <summary>The learned absolute position table P.</summary>
    public const string PositionTable = "_input_features_preproc._pos_emb.weight";

    /// <summary>The causal mask buffer (<c>triu(ones(N, N), 1)</c>, true = future key): not a weight.</summary>
    public const string AttentionMask = "_attn_mask";

    /// <summary>The file names an export writes and an import looks for in a folder.</summary>
    public const string WeightsFile = "model.safetensors", PickleFile = "model.pt", ConfigFile = "config.json";

    /// <summary>Every official parameter name with the tensor of <paramref name="model"/> that holds it.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Parameters(HstuEncoder model)
    {
        var list = new List<(string, Tensor)>
        {
            (ItemTable, model.ItemEmbeddings.weight!),
            (PositionTable, model.PositionEmbeddings.weight!),
        };
        for (int l = 0; l < model.Layers.Count; l++)
        {
            // W_uvqk is stored in × out in both codes (LN(x) @ W), W_o as nn.Linear's out × in.
            list.Add(($"_hstu._attention_layers.{l}._uvqk", model.Layers[l].Uvqk));
            list.Add(($"_hstu._attention_layers.{l}._rel_attn_bias._ts_w", model.Biases[l].TimeWeights));
            list.Add(($"_hstu._attention_layers.{l}._rel_attn_bias._pos_w", model.Biases[l].PositionWeights));
            list.Add(($"_hstu._attention_layers.{l}._o.weight", model.Layers[l].Output.weight!));
            list.Add(($"_hstu._attention_layers.{l}._o.bias", model.Layers[l].Output.bias!));
        }
        return list;
    }

    /// <summary>
    /// Reads an official model: <paramref name="path"/> is a folder holding <c>config.json</c> and <c>model.pt</c>
    /// (<c>torch.save(model.state_dict())</c>) or <c>model.safetensors</c>, or one of those weight files with
    /// <c>config.json</c> beside it. With <paramref name="data"/>, the item table is laid out in that dataset's ids
    /// (its items first, in its order, then the model's other items), so that every GenRec command can pair the
    /// checkpoint with it; without, GenRec ids are the official ones. Official ids are the datasets' own numeric
    /// item ids (MovieLens movie ids), unless the config lists item keys (GenRec's exports do).
    /// </summary>
    public static (Checkpoint Info, HstuEncoder Model) Import(string path, PreparedDataset? data = null)
    {
        var (weightsPath, configPath) = Locate(path);
        var config = OfficialConfig.Read(configPath);
        var tensors = ReadTensors(weightsPath);
        try
        {
            if (!tensors.TryGetValue(ItemTable, out var table))
                throw new InvalidDataException($"{weightsPath}: no '{ItemTable}' tensor; not an official HSTU "
                    + "state_dict.");
            long rows = table.shape[0];
            var officialKeys = config.ItemKeys ?? NumericKeys(rows - 1);
            if (officialKeys.Count != rows - 1)
                throw new InvalidDataException($"{configPath}: lists {officialKeys.Count:N0} item keys; {ItemTable} "
                    + $"has {rows - 1:N0} item rows.");
            var (keys, sourceRow) = Layout(officialKeys, data, weightsPath);
            var model = new HstuEncoder(config.Model, keys.Count + 1);
            try
            {
                Load(model, tensors, sourceRow, weightsPath);
                model.eval();
            }
            catch
            {
                model.Dispose();
                throw;
            }
            var info = new Checkpoint
            {
                Config = new ExperimentConfig
                {
                    Name = "official-hstu",
                    Model = config.Model,
                    Training = config.Training,
                },
                ItemTableSize = keys.Count + 1,
                Dataset = data?.Name ?? $"official HSTU import of {Path.GetFullPath(weightsPath)}",
                ItemKeys = keys,
            };
            return (info, model);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> into <paramref name="folder"/> as <c>model.safetensors</c> under the official
    /// names (with the <c>_attn_mask</c> buffer, so that <c>load_state_dict(strict=True)</c> accepts it) and
    /// <c>config.json</c> (official hyper-parameter names and the item keys of the rows), each written whole or not
    /// at all.
    /// </summary>
    public static void Export(Checkpoint info, SequenceEncoder model, string folder)
    {
        if (model is not HstuEncoder hstu)
            throw new ArgumentException($"model.encoder is '{info.Config.Model.Encoder}'; only HSTU retrieval models "
                + "export to the official format.");
        var f = hstu.Features;
        if (f.TokenKinds.Count > 0 || f.ItemFeatures.Count > 0 || f.Actions.Count > 0)
            throw new ArgumentException("the model embeds a unified feature space (feature tokens, actions or item "
                + "features), which the official HSTU has no tables for; export a model trained on items only.");
        var keys = info.ItemKeys
            ?? throw new ArgumentException("the checkpoint records no item ids (an earlier GenRec); train it again.");
        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var n = info.Config.Model.PaddedLength;
        var dict = new Dictionary<string, Tensor>
        {
            [AttentionMask] = ones(n, n, dtype: ScalarType.Bool).triu(1),
        };
        foreach (var (name, t) in Parameters(hstu)) dict[name] = t.detach().cpu().contiguous();
        WriteAtomically(Path.Combine(folder, WeightsFile), s => Safetensors.SaveStateDict(s, dict, leaveOpen: true));
        var json = OfficialConfig.ToJson(info.Config.Model, info.Config.Training, keys);
        WriteAtomically(Path.Combine(folder, ConfigFile),
            s => JsonSerializer.Serialize(s, json, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static List<string> NumericKeys(long count) =>
        [.. Enumerable.Range(1, (int)count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static (string Weights, string Config) Locate(string path)
    {
        if (Directory.Exists(path))
        {
            var st = Path.Combine(path, WeightsFile);
            var pt = Path.Combine(path, PickleFile);
            var weights = File.Exists(st) ? st : File.Exists(pt) ? pt
                : throw new FileNotFoundException($"{path}: holds neither {WeightsFile} nor {PickleFile}.");
            return (weights, Path.Combine(path, ConfigFile));
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found.", path);
        return (path, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ConfigFile));
    }

    /// <summary>The state dict by name, read with TorchSharp.PyBridge (PyTorch's zip format, or safetensors).</summary>
    private static Dictionary<string, Tensor> ReadTensors(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            var head = new byte[4];
            int got = stream.Read(head, 0, 4);
            stream.Position = 0;
            // A torch.save file is a zip archive ("PK\x03\x04"); anything else is read as safetensors.
            if (got == 4 && head[0] == (byte)'P' && head[1] == (byte)'K')
            {
                var result = new Dictionary<string, Tensor>();
                foreach (DictionaryEntry e in PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true))
                    result[(string)e.Key] = (Tensor)e.Value!;
                return result;
            }
            return Safetensors.LoadStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not (FileNotFoundException or OutOfMemoryException))
        {
            throw new InvalidDataException($"{path}: not a PyTorch state_dict or safetensors file ({e.Message}).", e);
        }
    }

    /// <summary>The checkpoint's item keys and, for each GenRec row, the official row it is copied from.</summary>
    private static (List<string> Keys, long[] SourceRow) Layout(IReadOnlyList<string> officialKeys,
        PreparedDataset? data, string weightsPath)
    {
        var rowOf = new Dictionary<string, long>(officialKeys.Count, StringComparer.Ordinal);
        for (int i = 0; i < officialKeys.Count; i++)
            if (!rowOf.TryAdd(officialKeys[i], i + 1))
                throw new InvalidDataException($"{weightsPath}: item key '{officialKeys[i]}' names two rows.");
        if (data is null)
            return ([.. officialKeys], [.. Enumerable.Range(0, officialKeys.Count + 1).Select(i => (long)i)]);
        var keys = new List<string>(officialKeys.Count);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        foreach (var k in data.ItemKeys)
        {
            if (!rowOf.ContainsKey(k))
                throw new ArgumentException($"{data.Name}: item '{k}' is not among the {officialKeys.Count:N0} "
                    + $"items of {weightsPath}; pass the data the model was trained on.");
            keys.Add(k);
            taken.Add(k);
        }
        keys.AddRange(officialKeys.Where(k => !taken.Contains(k)));
        return (keys, [0, .. keys.Select(k => rowOf[k])]);
    }

    private static void Load(HstuEncoder model, Dictionary<string, Tensor> tensors, long[] sourceRow, string path)
    {
        var expected = Parameters(model);
        var known = expected.Select(p => p.Name).Append(AttentionMask).ToHashSet(StringComparer.Ordinal);
        var unknown = tensors.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
            throw new InvalidDataException($"{path}: tensor '{unknown[0]}' is not a parameter of the HSTU its config "
                + $"describes ({unknown.Count} unknown in all); the weights and {ConfigFile} do not belong together.");
        if (tensors.TryGetValue(AttentionMask, out var mask))
        {
            long n = model.Config.PaddedLength;
            if (!mask.shape.SequenceEqual([n, n]))
                throw new InvalidDataException($"{path}: {AttentionMask} is [{string.Join(", ", mask.shape)}]; "
                    + $"expected [{n}, {n}] (N = max_sequence_length + max_output_length).");
        }
        using var _ = no_grad();
        foreach (var (name, target) in expected)
        {
            if (!tensors.TryGetValue(name, out var source))
                throw new InvalidDataException($"{path}: parameter '{name}' is missing.");
            var want = name == ItemTable ? [source.shape[0], target.shape[1]] : target.shape;
            if (!source.shape.SequenceEqual(want))
                throw new InvalidDataException($"{path}: '{name}' is [{string.Join(", ", source.shape)}]; the config "
                    + $"describes [{string.Join(", ", want)}].");
            using var value = source.to(ScalarType.Float32);
            if (name == ItemTable)
            {
                using var rows = tensor(sourceRow);
                using var laid = value.index_select(0, rows);
                target.copy_(laid);
            }
            else target.copy_(value);
        }
    }

    private static void WriteAtomically(string path, Action<Stream> write)
    {
        var tmp = path + $".{Environment.ProcessId}.tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw;
        }
    }
}
