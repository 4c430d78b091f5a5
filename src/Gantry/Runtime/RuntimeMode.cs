using Gantry.Requests;

namespace Gantry.Runtime;

internal enum RuntimeMode { Legacy, Cdi, JitCdi }

// Which way a container gets its GPUs (toolkit.md §1.4 "Mode resolution").
internal static class ModeResolver
{
    /// <summary>The configured mode (or the one forced by the .cdi/.legacy name), with "auto" left unresolved (null).</summary>
    public static RuntimeMode? Configured(string configMode, string? forced)
    {
        var mode = forced ?? configMode;
        return mode switch
        {
            "auto" or "" => null,
            "legacy" => RuntimeMode.Legacy,
            "cdi" => RuntimeMode.Cdi,
            "jit-cdi" => RuntimeMode.JitCdi,
            "csv" => throw new Cli.GantryException("nvidia-container-runtime.mode \"csv\" (Tegra) is not supported by gantry; use auto, cdi, jit-cdi or legacy"),
            _ => throw new Cli.GantryException($"invalid mode \"{mode}\" in nvidia-container-runtime.mode: use auto, legacy, cdi or jit-cdi"),
        };
    }

    /// <summary>auto: cdi when every requested device (and at least one) is a qualified CDI name, else jit-cdi.</summary>
    /// <remarks>The original picks csv on Tegra; gantry does not support Tegra and so does not probe for it.</remarks>
    public static RuntimeMode Auto(VisibleDevices requested) =>
        requested.Kind == RequestKind.List && requested.Ids.Count > 0 && requested.Ids.All(Cdi.QualifiedName.IsQualified)
            ? RuntimeMode.Cdi : RuntimeMode.JitCdi;

    public static string Name(RuntimeMode m) => m switch { RuntimeMode.Legacy => "legacy", RuntimeMode.Cdi => "cdi", _ => "jit-cdi" };
}
