using Gantry.Common;
using Gantry.Requests;

namespace Gantry.Requests;

internal enum RuntimeMode { Legacy, Cdi, JitCdi, Csv }

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
            "csv" => RuntimeMode.Csv,
            _ => throw new GantryException($"invalid mode \"{mode}\" in nvidia-container-runtime.mode: use auto, legacy, csv, cdi or jit-cdi"),
        };
    }

    /// <summary>auto: cdi when every requested device (and at least one) is a qualified CDI name, else csv on a
    /// Tegra system without NVML (asked only then), else jit-cdi.</summary>
    public static RuntimeMode Auto(VisibleDevices requested, Func<bool>? isTegra = null) =>
        requested.Kind == RequestKind.List && requested.Ids.Count > 0 && requested.Ids.All(Cdi.QualifiedName.IsQualified) ? RuntimeMode.Cdi
        : isTegra?.Invoke() == true ? RuntimeMode.Csv : RuntimeMode.JitCdi;

    public static string Name(RuntimeMode m) => m switch
    {
        RuntimeMode.Legacy => "legacy", RuntimeMode.Cdi => "cdi", RuntimeMode.Csv => "csv", _ => "jit-cdi",
    };
}
