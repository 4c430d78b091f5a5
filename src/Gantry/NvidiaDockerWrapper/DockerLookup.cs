using System.Diagnostics;
using Gantry.Common;

namespace Gantry.NvidiaDockerWrapper;

// The docker program as exec would find it, and `docker pull` with its progress on stderr (stdout stays the
// container's, as with the original).
internal static class DockerLookup
{
    /// <summary>A name with a slash as is, else the first executable file of that name on $PATH.</summary>
    public static string Resolve(string program)
    {
        if (program.Contains('/')) return program;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path) && (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
                return path;
        }
        throw new GantryException($"exec: \"{program}\": executable file not found in $PATH");
    }

    public static void Pull(IReadOnlyList<string> docker, IReadOnlyList<string> globalOptions, string image)
    {
        var psi = new ProcessStartInfo(Resolve(docker[0])) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in docker.Skip(1).Concat(globalOptions).Concat(["pull", image])) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new GantryException($"cannot start {psi.FileName}");
        var progress = p.StandardOutput.BaseStream.CopyToAsync(Console.OpenStandardError());
        var errors = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        progress.Wait();
        if (p.ExitCode == 0) return;
        var message = errors.Result.Trim();
        if (message.StartsWith("Error: ", StringComparison.Ordinal)) message = message[7..];
        throw new GantryException(message.Length > 0 ? message : "failed to run docker command");
    }
}
