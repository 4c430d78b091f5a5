using System.Text;
using Gantry.Common;
using Gantry.Config;
using Gantry.Oci;
using Gantry.Requests;
using Gantry.Runtime;
using Gantry.Tests.Config;
using Gantry.Tests.Oci;

namespace Gantry.Tests.Runtime;

// Issue 17, part 2: in cdi mode a spec whose host files are gone (a driver upgrade) fails the container before
// anything is applied, with one line naming the spec, the missing file and the command that fixes it.
public sealed class CdiStaleSpecTests : IDisposable
{
    readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    string Modify(string library)
    {
        _dir.Write("cdi/nvidia.yaml", $"""
            cdiVersion: 0.5.0
            kind: nvidia.com/gpu
            devices:
            - name: "0"
              containerEdits:
                env: [GPU0=1]
            containerEdits:
              mounts:
              - hostPath: {library}
                containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.15
                options: [ro, nosuid, nodev, bind]
            """);
        var config = new ToolkitConfig();
        config.NvidiaContainerRuntime.CdiSpecDirs = [_dir.File("cdi")];
        var log = new RuntimeLog(LogLevel.Error, null, null, false);
        var injector = new CdiInjector(config, log, new EditsApplier(new FakeRuntimeSyscalls()), "/usr/bin/nvidia-ctk",
            (_, _, _) => throw new InvalidOperationException("cdi mode must not run discovery"));
        var spec = OciSpec.Parse(Encoding.UTF8.GetBytes("""{"process":{"env":["NVIDIA_VISIBLE_DEVICES=0"]},"root":{"path":"rootfs"}}"""), "config.json", false);
        new SpecModifier(config, log, injector, "/usr/bin/nvidia-container-runtime-hook").Modify(spec, RuntimeMode.Cdi);
        return Encoding.UTF8.GetString(spec.Serialize());
    }

    [Fact]
    public void A_spec_naming_a_library_that_is_gone_is_refused_with_the_fix()
    {
        var gone = _dir.File("lib/libcuda.so.550.54.15");
        var e = Assert.Throws<GantryException>(() => Modify(gone));
        Assert.Equal($"CDI spec {_dir.File("cdi/nvidia.yaml")} no longer matches this host: {gone} does not exist; regenerate it with " +
                     $"'nvidia-ctk cdi refresh --output={_dir.File("cdi/nvidia.yaml")}' (or 'nvidia-ctk cdi generate --output={_dir.File("cdi/nvidia.yaml")}')", e.Message);
    }

    [Fact]
    public void A_spec_whose_files_exist_is_applied()
    {
        _dir.Write("lib/libcuda.so.550.54.15", "");
        Assert.Contains("GPU0=1", Modify(_dir.File("lib/libcuda.so.550.54.15")));
    }
}
