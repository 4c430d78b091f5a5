namespace Gantry.Cdi;

/// <summary>A spec file the registry loaded, with its priority (its directory's index; later directories win).</summary>
internal sealed record LoadedSpec(string Path, int Priority, Spec Spec);

/// <summary>A device the registry resolved: its fully-qualified name, the device and the spec it came from.</summary>
internal sealed record RegisteredDevice(string QualifiedName, Device Device, LoadedSpec Spec);

// The CDI spec directories as a container runtime sees them. Every *.json / *.yaml file of each directory is
// read; a broken file is recorded as an error and skipped, never fatal. A device defined in two files is taken
// from the later directory (higher priority); two definitions at the same priority are a conflict and neither
// is offered.
internal sealed class SpecRegistry
{
    public static readonly string[] DefaultDirs = ["/etc/cdi", "/var/run/cdi"];

    public IReadOnlyList<LoadedSpec> Specs { get; }
    public IReadOnlyList<SpecError> Errors { get; }
    public IReadOnlyDictionary<string, RegisteredDevice> Devices { get; }

    SpecRegistry(List<LoadedSpec> specs, List<SpecError> errors, Dictionary<string, RegisteredDevice> devices)
    {
        Specs = specs;
        Errors = errors;
        Devices = devices;
    }

    /// <summary>Fully-qualified names of all devices, sorted (byte order).</summary>
    public IReadOnlyList<string> DeviceNames => Devices.Keys.Order(StringComparer.Ordinal).ToArray();

    public static SpecRegistry Load(IReadOnlyList<string> dirs)
    {
        var specs = new List<LoadedSpec>();
        var errors = new List<SpecError>();
        for (var priority = 0; priority < dirs.Count; priority++)
        {
            var dir = dirs[priority];
            string[] files;
            try
            {
                if (!Directory.Exists(dir)) continue; // a missing directory is normal (nothing generated yet)
                files = Directory.GetFiles(dir)
                    .Where(f => Path.GetExtension(f) is ".json" or ".yaml")
                    .Order(StringComparer.Ordinal).ToArray();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add(new SpecError(dir, null, null, $"cannot list spec directory: {e.Message}"));
                continue;
            }
            foreach (var file in files)
            {
                if (!SpecFile.TryRead(file, out var spec, out var error)) { errors.Add(error); continue; }
                var problems = SpecValidator.Validate(spec);
                if (problems.Count > 0)
                {
                    errors.AddRange(problems.Select(p => new SpecError(file, null, null, p.ToString())));
                    continue;
                }
                specs.Add(new LoadedSpec(file, priority, spec));
            }
        }
        return new SpecRegistry(specs, errors, Resolve(specs, errors));
    }

    static Dictionary<string, RegisteredDevice> Resolve(List<LoadedSpec> specs, List<SpecError> errors)
    {
        var devices = new Dictionary<string, RegisteredDevice>(StringComparer.Ordinal);
        var conflicts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            foreach (var device in spec.Spec.Devices)
            {
                var name = QualifiedName.Of(spec.Spec.Kind, device.Name);
                if (devices.TryGetValue(name, out var old))
                {
                    if (spec.Priority < old.Spec.Priority) continue;
                    if (spec.Priority == old.Spec.Priority)
                    {
                        errors.Add(new SpecError(spec.Path, null, null, $"conflicting device \"{name}\" (also in {old.Spec.Path})"));
                        conflicts.Add(name);
                        continue;
                    }
                }
                devices[name] = new RegisteredDevice(name, device, spec);
            }
        }
        foreach (var name in conflicts) devices.Remove(name);
        return devices;
    }
}
