using Gantry.Common;
using Gantry.NvidiaDocker;

namespace Gantry.Plugin;

/// <summary>nvidia-docker-plugin's flags: the original's -v, -l, -d, -s, and the roots and spec file of Gantry.</summary>
internal sealed record PluginOptions
{
    public bool PrintVersion { get; init; }
    public string ListenAddress { get; init; } = "localhost:3476";
    public ListenAddress Listen { get; init; } = new("localhost", 3476);
    public string VolumesDir { get; init; } = "/var/lib/nvidia-docker/volumes";
    public string SocketDir { get; init; } = "/run/docker/plugins";
    public string DriverRoot { get; init; } = "/";
    public string? DevRoot { get; init; }
    public string? SpecFile { get; init; }

    public const string SocketName = "nvidia-docker.sock";
    public string SocketPath => Path.Combine(SocketDir, SocketName);

    static FlagSet Flags() => new FlagSet()
        .Bool("v", "Show the plugin version information")
        .String("l", "Server listen address", "localhost:3476", aliases: ["listen"])
        .String("d", "Path where to store the volumes", "/var/lib/nvidia-docker/volumes")
        .String("s", "Path to the plugin socket", "/run/docker/plugins")
        .String("driver-root", "Root of the driver installation (a driver container, or `gantry simulate DIR`)", "/", env: ["NV_DRIVER_ROOT"])
        .String("dev-root", "Root of the device nodes (default: the driver root)", env: ["NV_DEV_ROOT"])
        .String("spec-file", "Also announce the socket to Docker in this spec file (e.g. /etc/docker/plugins/nvidia-docker.spec)");

    public static string Usage => Flags().Usage();

    /// <summary>Throws UsageException for an unknown flag, a missing value or a stray argument.</summary>
    public static PluginOptions Parse(string[] args)
    {
        var f = Flags().Parse(args);
        if (f.Positionals.Count > 0) throw new UsageException($"unexpected argument '{f.Positionals[0]}'");
        var listen = f.GetOr("l", "localhost:3476");
        if (!NvidiaDocker.ListenAddress.TryParse(listen, out var address, out var error)) throw new UsageException(error);
        return new PluginOptions
        {
            PrintVersion = f.GetBool("v"), ListenAddress = listen, Listen = address, VolumesDir = f.GetOr("d", "/var/lib/nvidia-docker/volumes"),
            SocketDir = f.GetOr("s", "/run/docker/plugins"), DriverRoot = f.GetOr("driver-root", "/"), DevRoot = f.Get("dev-root"),
            SpecFile = f.Get("spec-file"),
        };
    }
}
