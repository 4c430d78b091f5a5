using Gantry.Config;
using Gantry.Requests;

namespace Gantry.RuntimeHook;

// The exact `nvidia-container-cli … configure …` command line the original hook builds (toolkit.md §1.5): global
// flags from [nvidia-container-cli], then configure's flags in a fixed order, then --pid and the rootfs.
// Pure: the one host fact it needs (does /sbin/ldconfig.real exist?) is asked through a function.
internal static class ConfigureArgv
{
    /// <param name="debugToStderr">the hook's own -debug flag: the CLI then logs to /dev/stderr.</param>
    public static string[] Build(ToolkitConfig config, string cliPath, CliRequest request, int pid, string rootfs,
        bool debugToStderr, Func<string, bool> hostFileExists)
    {
        var cli = config.NvidiaContainerCli;
        var args = new List<string> { cliPath };
        if (!string.IsNullOrEmpty(cli.Root)) args.Add("--root=" + cli.Root);
        if (cli.LoadKmods) args.Add("--load-kmods");
        if (config.Features.DisableImexChannelCreation == true) args.Add("--no-create-imex-channels");
        if (cli.NoPivot) args.Add("--no-pivot");
        if (debugToStderr) args.Add("--debug=/dev/stderr");
        else if (!string.IsNullOrEmpty(cli.Debug)) args.Add("--debug=" + cli.Debug);
        if (!string.IsNullOrEmpty(cli.Ldcache)) args.Add("--ldcache=" + cli.Ldcache);
        if (!string.IsNullOrEmpty(cli.User)) args.Add("--user=" + cli.User);

        args.Add("configure");
        if (CudaCompatMode(config) is { } compat) args.Add("--cuda-compat-mode=" + compat);
        if (NormalizeLdconfig(cli.Ldconfig, hostFileExists) is { Length: > 0 } ldconfig) args.Add("--ldconfig=" + ldconfig);
        if (cli.NoCgroups) args.Add("--no-cgroups");
        if (DeviceList(request.Devices) is { Length: > 0 } devices) args.Add("--device=" + devices);
        if (request.MigConfigDevices.Length > 0) args.Add("--mig-config=" + request.MigConfigDevices);
        if (request.MigMonitorDevices.Length > 0) args.Add("--mig-monitor=" + request.MigMonitorDevices);
        if (request.ImexChannels.Count > 0) args.Add("--imex-channel=" + string.Join(",", request.ImexChannels));
        foreach (var cap in DriverCapabilityRequest.Names(request.Capabilities)) args.Add("--" + cap);
        foreach (var requirement in request.Requirements) args.Add("--require=" + requirement);
        args.Add("--pid=" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        args.Add(rootfs);
        return [.. args];
    }

    /// <summary>"none" asks for the driver without a GPU: no --device at all.</summary>
    static string DeviceList(VisibleDevices d) => d.Kind switch
    {
        RequestKind.All => "all",
        RequestKind.List => string.Join(",", d.Ids),
        _ => "",
    };

    // modes.legacy.cuda-compat-mode: the hook mode is the runtime's business, so the CLI gets "disabled" for it;
    // an unknown value disables compat libs unless the container is allowed to bring its own.
    static string? CudaCompatMode(ToolkitConfig config) => config.NvidiaContainerRuntime.LegacyCudaCompatMode switch
    {
        "ldconfig" => "ldconfig",
        "mount" => "mount",
        "disabled" or "hook" => "disabled",
        _ => config.Features.AllowCudaCompatLibsFromContainer == true ? null : "disabled",
    };

    /// <summary>A host ldconfig ("@path") is named as its .real twin when that exists (Debian-style wrappers), else without .real.</summary>
    public static string NormalizeLdconfig(string configured, Func<string, bool> hostFileExists)
    {
        if (!configured.StartsWith('@')) return configured;
        var path = configured[1..];
        if (path.EndsWith(".real", StringComparison.Ordinal)) path = path[..^".real".Length];
        return hostFileExists(path + ".real") ? "@" + path + ".real" : "@" + path;
    }
}
