using Gantry.Common;

namespace Gantry.NvidiaDockerWrapper;

/// <summary>What the wrapper does: print a banner (for `version`), then exec docker with these arguments.</summary>
internal sealed record WrapperPlan(IReadOnlyList<string> DockerArgs, string? Banner = null);

// The wrapper's decisions, free of I/O: everything it must learn from Docker or the GPUs comes in through
// interfaces, so each behaviour is a table test.
internal static class WrapperPlanner
{
    public const string Version1 = "1.0.1", Version2 = "2.14.0";

    /// <summary>
    /// 1.0: run/create of an image labelled com.nvidia.volumes.needed gets the GPU arguments right before the
    /// image; any other command, and any unlabelled image, goes to docker unchanged.
    /// </summary>
    public static WrapperPlan PlanVolumeMode(IReadOnlyList<string> args, IDockerQueries docker, Action<string> pull, Func<IGpuArguments> gpus)
    {
        var line = DockerArgs.Parse(args);
        if (!line.IsRunOrCreate)
            return new WrapperPlan(args, line.Command == "version" ? $"NVIDIA Docker: {Banner(Version1)}\n\n" : null);
        if (line.ImageIndex < 0) return new WrapperPlan(args);
        var image = args[line.ImageIndex];
        var labels = docker.Labels(image);
        if (labels is null)
        {
            pull(image);
            labels = docker.Labels(image) ?? throw new GantryException($"cannot inspect image {image} after pulling it");
        }
        if (labels.Volumes.Count == 0) return new WrapperPlan(args);
        var extra = gpus().For(labels);
        return new WrapperPlan([.. args.Take(line.ImageIndex), .. extra, .. args.Skip(line.ImageIndex)]);
    }

    /// <summary>
    /// 2.x: right after the first literal run or create, --runtime=nvidia and, when NV_GPU is set, the GPUs as
    /// NVIDIA_VISIBLE_DEVICES (spaces turned to commas); `version` prints a banner; "--" stops the scan.
    /// </summary>
    public static WrapperPlan PlanRuntimeMode(IReadOnlyList<string> args, string? nvGpu)
    {
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "run" or "create":
                    List<string> extra = ["--runtime=nvidia"];
                    if (!string.IsNullOrEmpty(nvGpu)) extra.AddRange(["-e", $"NVIDIA_VISIBLE_DEVICES={nvGpu.Replace(' ', ',')}"]);
                    return new WrapperPlan([.. args.Take(i + 1), .. extra, .. args.Skip(i + 1)]);
                case "version":
                    return new WrapperPlan(args, $"NVIDIA Docker: {Banner(Version2)}\n");
                case "--":
                    return new WrapperPlan(args);
            }
        }
        return new WrapperPlan(args);
    }

    static string Banner(string version) => $"{version} (gantry {VersionInfo.Version})";
}
