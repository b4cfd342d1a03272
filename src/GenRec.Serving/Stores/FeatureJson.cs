using System.Text.Json;

namespace GenRec.Serving.Stores;

/// <summary>Feature values as the stores keep them: one JSON object of name → value.</summary>
internal static class FeatureJson
{
    public static string Write(IReadOnlyDictionary<string, string> features) =>
        JsonSerializer.Serialize(features.ToDictionary(kv => kv.Key, kv => kv.Value));

    public static IReadOnlyDictionary<string, string> Read(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? throw new InvalidDataException($"stored feature values '{json}' are not a JSON object.");
}
