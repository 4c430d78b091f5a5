namespace Gantry.Diagnostics;

/// <summary>One way a container can ask for a GPU through one engine, and the command line that tries it.</summary>
internal sealed record RouteProbe(string Route, string Engine, IReadOnlyList<string> Args);

/// <summary>What a probe gave: whether a GPU arrived, and the container's output or the engine's error.</summary>
internal sealed record RouteResult(string Route, string Command, bool GpuArrived, string Detail);

// `gantry doctor --run`: the routes worth trying given what the checks found (a route whose set-up is missing
// would only repeat that problem), each a tiny container that lists the GPU device nodes it was given.
internal static class RouteProbes
{
    public const string ListGpus = "ls /dev/nvidia[0-9]*";

    public static List<RouteProbe> Plan(DoctorFacts facts, IReadOnlyList<Finding> findings, string image, bool podmanInstalled)
    {
        bool Ok(string check) => findings.Any(f => f.Check == check && f.Status == CheckStatus.Ok);
        var probes = new List<RouteProbe>();
        string[] tail = [image, "sh", "-c", ListGpus];
        if (facts.DockerInUse)
        {
            if (Ok("docker-runtime"))
                probes.Add(new("docker --runtime=nvidia", "docker", ["run", "--rm", $"--runtime={DockerChecks.RuntimeName}", "-e", "NVIDIA_VISIBLE_DEVICES=all", .. tail]));
            if (Ok("docker-hook")) probes.Add(new("docker --gpus", "docker", ["run", "--rm", "--gpus", "all", .. tail]));
        }
        var cdi = findings.Any(f => f.Check == "cdi-specs" && f.Status == CheckStatus.Ok);
        if (cdi && facts.DockerInUse) probes.Add(new("docker CDI", "docker", ["run", "--rm", "--device", "nvidia.com/gpu=all", .. tail]));
        if (cdi && podmanInstalled) probes.Add(new("podman CDI", "podman", ["run", "--rm", "--device", "nvidia.com/gpu=all", .. tail]));
        return probes;
    }

    /// <summary>A GPU arrived when the container listed at least one /dev/nvidiaN and exited 0.</summary>
    public static bool Arrived(int exitCode, string stdout) =>
        exitCode == 0 && stdout.Split('\n').Any(l => l.Trim().StartsWith("/dev/nvidia", StringComparison.Ordinal));
}
