using Gantry.Common;
using Gantry.Host;
using Gantry.NvidiaDocker;

namespace Gantry.NvidiaDockerWrapper;

// nvidia-docker: a docker command that gives GPU images their GPUs. Mode 1.0 adds the device nodes and the
// driver volume to run/create of images labelled com.nvidia.volumes.needed (local GPUs, or a remote host's
// through its nvidia-docker-plugin); mode 2 adds --runtime=nvidia. Either way the process becomes docker.
internal static class NvidiaDockerCommand
{
    public static int Run(string argv0, string[] args, IRuntimeSyscalls? os = null)
    {
        os ??= LinuxRuntimeSyscalls.Instance;
        try
        {
            var settings = WrapperSettings.Load(Environment.GetEnvironmentVariable);
            var plan = settings.Mode == WrapperMode.Runtime
                ? WrapperPlanner.PlanRuntimeMode(args, settings.GpuVariable)
                : PlanVolumeMode(argv0, args, settings);
            if (plan.Banner is not null) { Console.Out.Write(plan.Banner); Console.Out.Flush(); }
            var docker = DockerLookup.Resolve(settings.DockerCommand[0]);
            var r = os.Exec(docker, [.. settings.DockerCommand, .. plan.DockerArgs]);
            throw new GantryException($"cannot exec {docker}: {new SyscallException("execv", docker, -r).Message}");
        }
        catch (GantryException e)
        {
            Fail(argv0, e.Message, e);
            return 1;
        }
    }

    static WrapperPlan PlanVolumeMode(string argv0, string[] args, WrapperSettings settings)
    {
        var line = DockerArgs.Parse(args);
        // Everything else is only worked out for run/create: other commands go to docker at once.
        IDockerQueries Docker() => DockerEndpoint.LocalSocket(settings.DockerCommand, line.GlobalOptions, Environment.GetEnvironmentVariable) is { } socket
            ? new DockerSocketQueries(socket) : new DockerCliQueries(settings.DockerCommand, line.GlobalOptions);
        var docker = line.IsRunOrCreate ? Docker() : null!;
        // Closed before docker is exec'd (an ssh tunnel is a child process).
        PluginClient? plugin = null;
        try
        {
            return WrapperPlanner.PlanVolumeMode(args, docker,
                image => DockerLookup.Pull(settings.DockerCommand, line.GlobalOptions, image),
                () =>
                {
                    if (!PluginAddressParser.TryParse(settings.NvHost, settings.DockerHost, out var remote, out var warning, out var error))
                        throw new GantryException(error);
                    if (warning is not null) Log(argv0, warning);
                    if (remote is not null)
                    {
                        // A password can only be asked for on a terminal, as the original read it from stdin.
                        plugin = new PluginClient(remote, settings.SshCommand, interactive: !Console.IsInputRedirected);
                        return new RemoteGpuArguments(plugin.Get, settings.Gpus);
                    }
                    UvmModule.Ensure(Roots(settings));
                    // NVML is only loaded once the image turned out to need GPUs (loading it on another thread while
                    // Docker was asked for the labels cost an unlabelled image ~4 ms and won a GPU image nothing);
                    // Docker looks for the driver volume meanwhile, as only NVML can name its version.
                    var volumes = docker.VolumeLookup(DriverVolume.Name + "_");
                    var host = InventoryGpuHost.FromNvml(Roots(settings));
                    return new LocalGpuArguments(host, settings.Gpus, volumes);
                });
        }
        finally { plugin?.Dispose(); }
    }

    static HostRoots Roots(WrapperSettings settings) => new(settings.DriverRoot, settings.DevRoot);

    /// <summary>The original's log line on stderr: "&lt;argv0&gt; | 2006/01/02 15:04:05 message".</summary>
    static void Log(string argv0, string message) => Console.Error.Write(GoLogLine.Format(argv0, message) + "\n");

    static void Fail(string argv0, string message, Exception e)
    {
        Log(argv0, $"Error: {message}");
        if (Environment.GetEnvironmentVariable("NV_DEBUG") is { Length: > 0 }) Console.Error.WriteLine(e.ToString());
    }
}
