using Mono.Cecil;

namespace GenRec.Tests.Architecture;

/// <summary>
/// The rooms of the code and the one direction their dependencies may run (docs/design/architecture.md):
/// TorchSharp workarounds and native loading &lt; Data &lt; Model &lt; Evaluation, Inference &lt; Training &lt; Serving
/// &lt; Cli.
/// The graph is computed from the compiled assemblies (signatures, fields, attributes and every method body), so a
/// backward edge fails the suite the day it is written.
/// </summary>
public class RoomOrderTests
{
    /// <summary>Each room's rank: an edge may only point to a lower rank (rooms of one rank never use each other).
    /// </summary>
    private static readonly (string Namespace, int Rank)[] Rooms =
    [
        ("GenRec.Native", 0),
        ("GenRec.Data", 1),
        ("GenRec.Model", 2),
        ("GenRec.Evaluation", 3),
        ("GenRec.Inference", 3),
        ("GenRec.Training", 4),
        ("GenRec.Serving", 5),
        ("GenRec.Cli", 6),
    ];

    /// <summary>Edges the ranks allow but the design does not: serving loads models, it never trains them.</summary>
    private static readonly HashSet<string> Forbidden =
    [
        "GenRec.Serving → GenRec.Training",
    ];

    [Fact]
    public void DependenciesRunOneWay()
    {
        var edges = Edges();
        var backward = edges
            .Where(e => Rank(e.Key.From) is int f && Rank(e.Key.To) is int t
                && (t > f || (t == f && Room(e.Key.From) != Room(e.Key.To))
                || Forbidden.Contains($"{Room(e.Key.From)} → {Room(e.Key.To)}")))
            .Select(e => $"{Room(e.Key.From)} → {Room(e.Key.To)}")
            .Distinct()
            .Order()
            .ToList();
        var details = edges.Where(e => backward.Contains($"{Room(e.Key.From)} → {Room(e.Key.To)}"))
            .Select(e => $"{e.Key.From} → {e.Key.To}: {string.Join(", ", e.Value.Order().Take(6))}");
        Assert.True(backward.Count == 0, "dependencies against the room order:\n" + string.Join("\n", details));
    }

    [Fact]
    public void TheGraphSeesDependenciesInMethodBodies()
    {
        // The check is only as good as its reading: the CLI's commands call into Training inside method bodies.
        Assert.Contains(Edges().Keys, e => e.From.StartsWith("GenRec.Cli", StringComparison.Ordinal)
            && e.To == "GenRec.Training");
    }

    private static string Room(string ns) => Rooms
        .Where(r => ns == r.Namespace || ns.StartsWith(r.Namespace + ".", StringComparison.Ordinal))
        .Select(r => r.Namespace).DefaultIfEmpty(ns).First();

    private static int? Rank(string ns)
    {
        var room = Room(ns);
        return Rooms.Any(r => r.Namespace == room) ? Rooms.First(r => r.Namespace == room).Rank : null;
    }

    /// <summary>Namespace → namespace edges within GenRec, with the type → type references behind each.</summary>
    private static Dictionary<(string From, string To), HashSet<string>> Edges()
    {
        var edges = new Dictionary<(string, string), HashSet<string>>();
        foreach (var file in new[] { "GenRec.dll", "GenRec.Serving.dll", "GenRec.Cli.dll" })
        {
            using var module = ModuleDefinition.ReadModule(Path.Combine(AppContext.BaseDirectory, file));
            foreach (var type in module.GetTypes())
            {
                var from = Outer(type).Namespace;
                if (!from.StartsWith("GenRec", StringComparison.Ordinal)) continue;
                foreach (var used in Referenced(type))
                {
                    var target = used.GetElementType();
                    while (target.DeclaringType is not null) target = target.DeclaringType;
                    var to = target.Namespace;
                    if (to == from || !to.StartsWith("GenRec", StringComparison.Ordinal)) continue;
                    if (!edges.TryGetValue((from, to), out var why)) edges[(from, to)] = why = [];
                    why.Add($"{Outer(type).Name} → {target.Name}");
                }
            }
        }
        return edges;
    }

    private static TypeDefinition Outer(TypeDefinition t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t;
    }

    private static IEnumerable<TypeReference> Referenced(TypeDefinition type)
    {
        if (type.BaseType is not null) foreach (var t in Expand(type.BaseType)) yield return t;
        foreach (var i in type.Interfaces) foreach (var t in Expand(i.InterfaceType)) yield return t;
        foreach (var a in type.CustomAttributes) yield return a.AttributeType;
        foreach (var f in type.Fields) foreach (var t in Expand(f.FieldType)) yield return t;
        foreach (var p in type.Properties) foreach (var t in Expand(p.PropertyType)) yield return t;
        foreach (var m in type.Methods)
        {
            foreach (var t in Expand(m.ReturnType)) yield return t;
            foreach (var p in m.Parameters) foreach (var t in Expand(p.ParameterType)) yield return t;
            if (!m.HasBody) continue;
            foreach (var v in m.Body.Variables) foreach (var t in Expand(v.VariableType)) yield return t;
            foreach (var ins in m.Body.Instructions)
            {
                switch (ins.Operand)
                {
                    case TypeReference tr:
                        foreach (var t in Expand(tr)) yield return t;
                        break;
                    case MemberReference mr:
                        if (mr.DeclaringType is not null) foreach (var t in Expand(mr.DeclaringType)) yield return t;
                        if (mr is MethodReference mref)
                        {
                            foreach (var t in Expand(mref.ReturnType)) yield return t;
                            foreach (var p in mref.Parameters)
                                foreach (var t in Expand(p.ParameterType)) yield return t;
                            if (mref is GenericInstanceMethod gim)
                                foreach (var g in gim.GenericArguments) foreach (var t in Expand(g)) yield return t;
                        }
                        else if (mr is FieldReference fr) foreach (var t in Expand(fr.FieldType)) yield return t;
                        break;
                }
            }
        }
    }

    private static IEnumerable<TypeReference> Expand(TypeReference t)
    {
        if (t is GenericParameter) yield break;
        if (t is TypeSpecification spec)
        {
            foreach (var x in Expand(spec.ElementType)) yield return x;
            if (t is GenericInstanceType git)
                foreach (var g in git.GenericArguments) foreach (var x in Expand(g)) yield return x;
            yield break;
        }
        yield return t;
    }
}
