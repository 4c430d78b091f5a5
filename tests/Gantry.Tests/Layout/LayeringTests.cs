using Gantry.Tests.Support;

namespace Gantry.Tests.Layout;

// The layers of DESIGN.md §3 and docs/architecture.md, checked on the source: the entry point on top, then one
// folder per front end, then the pipeline, then the base. References go only downward; front ends never refer to
// each other; pipeline and base folders may use folders of their own layer, but the folders form no cycle.
public sealed class LayeringTests
{
    enum Layer { Entry, FrontEnd, Pipeline, Base }

    // Every folder of src/Gantry, by layer. A new folder fails the test until it is placed here (and in the doc).
    static readonly Dictionary<string, Layer> Layers = new(StringComparer.Ordinal)
    {
        [""] = Layer.Entry, // Program, GantryCommand: the name an executable was started under picks the front end
        ["NvidiaCtk"] = Layer.FrontEnd,
        ["ContainerCli"] = Layer.FrontEnd,
        ["Runtime"] = Layer.FrontEnd,
        ["RuntimeHook"] = Layer.FrontEnd,
        ["NvidiaDockerWrapper"] = Layer.FrontEnd,
        ["Cdi"] = Layer.Pipeline,
        ["Config"] = Layer.Pipeline,
        ["Devices"] = Layer.Pipeline,
        ["Diagnostics"] = Layer.Pipeline,
        ["Discovery"] = Layer.Pipeline,
        ["Edits"] = Layer.Pipeline,
        ["Engines"] = Layer.Pipeline,
        ["Hooks"] = Layer.Pipeline,
        ["LdconfigSandbox"] = Layer.Pipeline,
        ["Live"] = Layer.Pipeline,
        ["NvidiaDocker"] = Layer.Pipeline,
        ["Oci"] = Layer.Pipeline,
        ["Requests"] = Layer.Pipeline,
        ["Simulation"] = Layer.Pipeline,
        ["Common"] = Layer.Base,
        ["Elf"] = Layer.Base,
        ["Host"] = Layer.Base,
    };

    static readonly Lazy<SourceGraph> Graph = new(() => SourceGraph.Read(Path.Combine(TestEnvironment.RepoRoot, "src", "Gantry")));

    [Fact]
    public void Every_folder_is_placed_in_a_layer_and_every_namespace_matches_its_folder()
    {
        var unplaced = Graph.Value.FileFolders.Values.Distinct().Where(f => !Layers.ContainsKey(f)).ToList();
        Assert.True(unplaced.Count == 0, $"folders without a layer (add them to {nameof(LayeringTests)}.Layers and docs/architecture.md): {string.Join(", ", unplaced)}");
        Assert.True(Graph.Value.NamespaceMismatches.Count == 0, string.Join("\n", Graph.Value.NamespaceMismatches));
    }

    [Fact]
    public void No_folder_refers_to_a_layer_above_it_and_front_ends_never_refer_to_each_other()
    {
        var wrong = Graph.Value.References.Where(r => Layers.TryGetValue(r.From, out var from) && Layers.TryGetValue(r.To, out var to)
                && (to < from || (to == from && from is Layer.FrontEnd or Layer.Entry)))
            .Select(r => $"{r.File}:{r.Line}: {Name(r.From)} ({Layers[r.From]}) refers to {r.What} in {Name(r.To)} ({Layers[r.To]})").ToList();
        Assert.True(wrong.Count == 0, "upward or sideways references:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void The_folders_form_no_cycle()
    {
        var edges = Graph.Value.References.GroupBy(r => r.From)
            .ToDictionary(g => g.Key, g => g.Select(r => r.To).Distinct().Order(StringComparer.Ordinal).ToList());
        var cycle = FindCycle(edges);
        Assert.True(cycle is null, cycle is null ? "" : "a cycle of folders: " + string.Join(" -> ", cycle.Select(Name)) +
            "\n" + string.Join("\n", cycle.Zip(cycle.Skip(1)).Select(e => Graph.Value.References.First(r => r.From == e.First && r.To == e.Second))
                .Select(r => $"{r.File}:{r.Line}: {r.What}")));
    }

    [Fact]
    public void The_checker_sees_usings_qualified_names_and_the_root_namespace()
    {
        var dir = Directory.CreateTempSubdirectory("layering-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "A"));
            Directory.CreateDirectory(Path.Combine(dir.FullName, "B", "Sub"));
            File.WriteAllText(Path.Combine(dir.FullName, "Program.cs"), "namespace Gantry;\ninternal static class Program { }\n");
            File.WriteAllText(Path.Combine(dir.FullName, "B", "Sub", "Thing.cs"), "namespace Gantry.B.Sub;\ninternal sealed class Thing { }\n");
            File.WriteAllText(Path.Combine(dir.FullName, "B", "Other.cs"), "namespace Gantry.B;\ninternal sealed class Other { }\n");
            File.WriteAllText(Path.Combine(dir.FullName, "A", "User.cs"), string.Join('\n',
                "using Gantry.B;", "namespace Gantry.A;", "// Gantry.C.Nothing in a comment", "internal sealed class User",
                "{", "    object x = new Gantry.B.Sub.Thing();", "    object y = B.Other.Make();", "    int z = Program.Run();", "}", ""));
            var refs = SourceGraph.Read(dir.FullName).References.Where(r => r.From == "A").Select(r => $"{r.Line}:{r.To}:{r.What}").ToList();
            Assert.Equal(["1:B:Gantry.B", "6:B:Gantry.B.Sub.Thing", "7:B:B.Other", "8::Program"], refs);
        }
        finally { dir.Delete(recursive: true); }
    }

    static string Name(string folder) => folder.Length == 0 ? "the root namespace" : folder + "/";

    static List<string>? FindCycle(Dictionary<string, List<string>> edges)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        List<string>? Visit(string node)
        {
            if (state.GetValueOrDefault(node) == 2) return null;
            if (state.GetValueOrDefault(node) == 1) return [.. path.Skip(path.IndexOf(node)), node];
            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node) ?? [])
                if (Visit(next) is { } found) return found;
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in edges.Keys.Order(StringComparer.Ordinal))
            if (Visit(node) is { } cycle) return cycle;
        return null;
    }
}
