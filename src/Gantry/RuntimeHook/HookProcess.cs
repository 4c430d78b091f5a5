using Gantry.Host;

namespace Gantry.RuntimeHook;

/// <summary>What the hook takes from its process: stdin, environment, its own directory, and the OS seam.</summary>
internal sealed record HookProcess(IHookSyscalls Os, Func<Stream> Stdin, IReadOnlyList<KeyValuePair<string, string>> Environment, string? OwnDirectory)
{
    public static HookProcess Current() => new(
        LinuxHookSyscalls.Instance,
        Console.OpenStandardInput,
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string>((string)e.Key, (string?)e.Value ?? "")).ToList(),
        Path.GetDirectoryName(System.Environment.ProcessPath));

    /// <summary>
    /// Runs nvidia-container-cli in this process when the CLI the hook found is this executable (the entry point
    /// passes it in: front ends do not call each other); null means always exec.
    /// </summary>
    public Func<string[], int>? InProcessCli { get; init; }

    public string? Env(string name) => Environment.FirstOrDefault(e => e.Key == name) is { Key: not null } e ? e.Value : null;
}
