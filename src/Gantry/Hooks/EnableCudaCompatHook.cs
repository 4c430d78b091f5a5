using System.Text;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Hooks;

// enable-cuda-compat: when the image ships CUDA forward-compat libraries newer than the host driver (and the
// driver supports them), put their directory first in the container's ld.so.conf.d; a later update-ldcache
// rebuilds the cache. The compat directory is resolved inside the root: CVE-2025-23359 came through here.
internal sealed class EnableCudaCompatHook(ICudaCompatNoteReader? noteReader = null) : ICdiHook
{
    public const string DefaultCompatRoot = "/usr/local/cuda/compat";
    readonly ICudaCompatNoteReader _notes = noteReader ?? new ElfCudaCompatNoteReader();

    public string Name => "enable-cuda-compat";
    public string Summary => "This hook ensures that the folder containing the CUDA compat libraries is added to the ldconfig search path if required.";

    public FlagSet DefineFlags() => new FlagSet()
        .String("host-driver-version", "Specify the host driver version. If the CUDA compat libraries detected in the container do not have a higher MAJOR version, the hook is a no-op.")
        .String("host-cuda-version", "Specify the CUDA version supported by the host driver.")
        .String("cuda-compat-container-root", "Specify the folder in which CUDA compat libraries are located in the container", DefaultCompatRoot)
        .WithContainerSpec();

    public void Run(FlagSet flags, HookContext context)
    {
        var hostDriver = flags.Get("host-driver-version");
        var hostCuda = flags.Get("host-cuda-version");
        if (string.IsNullOrEmpty(hostDriver) && string.IsNullOrEmpty(hostCuda)) { context.Log.Debug("no host driver or CUDA version given; nothing to do"); return; }
        using var root = context.OpenContainerRoot(flags);
        try
        {
            var dir = CompatDirectoryToUse(root, flags.GetOr("cuda-compat-container-root", DefaultCompatRoot), hostDriver, hostCuda, context.Log);
            if (dir is not null) WriteConfig(root, dir, context.Log);
        }
        catch (IOException e)
        {
            throw new GantryException($"failed to enable CUDA compat libraries in {root.HostPath}: {e.Message}", e);
        }
    }

    /// <summary>The resolved container path of the compat directory if it should be used, else null.</summary>
    public string? CompatDirectoryToUse(ContainerRoot root, string compatRoot, string? hostDriver, string? hostCuda, Log log)
    {
        if (!root.TryOpen(compatRoot, O.Path | O.Directory, out var dir, out var errno))
        {
            if (errno is Errno.ENOENT or Errno.ENOTDIR) { log.Debug($"{compatRoot} does not exist in the container"); return null; }
            throw new SyscallException("open", compatRoot, errno);
        }
        using (dir)
        {
            SyscallResult.Check(root.Sys.ListDirectory(dir!.Value, out var names), "list", compatRoot);
            var candidates = new List<string>();
            foreach (var name in names.Where(IsVersionedLibcuda).Order(StringComparer.Ordinal))
                if (root.Sys.Statx(dir.Value, name, At.SymlinkNoFollow, out var st) >= 0 && st.IsRegular) candidates.Add(name);
            if (candidates.Count != 1) { log.Debug($"expected one libcuda.so.*.* in {compatRoot}, found {candidates.Count}"); return null; }
            var compatVersion = candidates[0]["libcuda.so.".Length..];
            CudaCompatNote? note;
            using (var lib = new OwnedFd(root.Sys, SyscallResult.Check(root.Sys.OpenAt(dir.Value, candidates[0], O.RdOnly | O.NoFollow), "open", candidates[0])))
                note = _notes.Read(lib.ProcPath); // read through the fd just opened, not by name
            if (!CudaCompatDecision.UseCompat(compatVersion, hostDriver, hostCuda, note))
            {
                log.Debug($"not using CUDA compat libraries {compatVersion} (host driver {hostDriver}, host CUDA {hostCuda})");
                return null;
            }
            return root.ContainerPathOf(dir);
        }
    }

    // libcuda.so.*.*: at least one dot after the "libcuda.so." prefix.
    static bool IsVersionedLibcuda(string name) =>
        name.StartsWith("libcuda.so.", StringComparison.Ordinal) && name.IndexOf('.', "libcuda.so.".Length) >= 0;

    static void WriteConfig(ContainerRoot root, string compatDir, Log log)
    {
        using var confd = root.MkdirAll("/etc/ld.so.conf.d", 0b111_101_101);
        var name = $"00-compat-{RandomName.Uuid()}.conf";
        using var file = root.CreateExclusive(confd, name, 0b110_100_100, "/etc/ld.so.conf.d/" + name);
        root.WriteAll(file, Encoding.UTF8.GetBytes(compatDir + "\n"), name);
        log.Debug($"added {compatDir} to /etc/ld.so.conf.d/{name}");
    }
}
