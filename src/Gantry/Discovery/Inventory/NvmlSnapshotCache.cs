using System.Text;
using Gantry.Common;
using Gantry.Host;

namespace Gantry.Discovery.Inventory;

/// <summary>
/// What NVML said about a host, kept between processes so that a container start does not load NVML (one to three
/// seconds per process on a host without the persistence daemon). A record is used only while the host's
/// <see cref="HostSignals"/> are exactly those it was taken under; any change (driver upgrade, GPU added or
/// removed, MIG instance made or destroyed, device nodes or ld.so.cache rewritten, config edited) asks NVML again
/// and replaces it. Records are root's: the directory and the file must belong to this (root) user and be writable
/// by no one else, or they are ignored; they are written atomically, mode 0600, one per set of host roots.
/// </summary>
internal sealed class NvmlSnapshotCache
{
    public const string DirectoryVariable = "GANTRY_INVENTORY_DIR";
    public const string DisableVariable = "GANTRY_NO_INVENTORY_CACHE";
    public const string DefaultDirectory = "/run/gantry/inventory";
    public const string MigMaxAgeVariable = "GANTRY_INVENTORY_MIG_MAX_AGE";
    /// <summary>
    /// How long a record stays good when a GPU in it could switch MIG mode unseen: MIG-capable with no MIG device.
    /// Switching the mode on with no instance made (or off with none left) changes nothing in procfs or /dev, so
    /// for such hosts the signals alone cannot prove a record current; a short age bounds how stale it can be, and
    /// a burst of starts still asks NVML once. Any other host keeps its record until a signal changes.
    /// </summary>
    public static readonly TimeSpan DefaultMigMaxAge = TimeSpan.FromSeconds(30);
    const int MaxRecordBytes = 1 << 20;

    readonly string _dir;
    readonly string? _extra;
    readonly string _caller;
    readonly uint _owner;
    readonly Log _log;
    readonly NvmlQuery _load;
    readonly TimeSpan _migMaxAge;
    readonly Func<DateTime> _now;

    /// <param name="load">How NVML is really asked (tests count the calls); default: load the library.</param>
    /// <param name="extraSignal">What else the caller's answers depend on (its config file's stamp).</param>
    /// <param name="caller">Names the caller's record (its config path), so callers with different extras do not
    /// overwrite each other's record at every start.</param>
    /// <param name="migMaxAge">See <see cref="DefaultMigMaxAge"/>.</param>
    /// <param name="now">The clock records are aged by (tests move it).</param>
    public NvmlSnapshotCache(string directory, string? extraSignal, uint owner, Log log, NvmlQuery? load = null, string caller = "",
        TimeSpan? migMaxAge = null, Func<DateTime>? now = null) =>
        (_dir, _extra, _owner, _log, _load, _caller, _migMaxAge, _now) = (Path.GetFullPath(directory), extraSignal, owner, log,
            load ?? DriverDiscovery.LoadNvml, caller, migMaxAge ?? DefaultMigMaxAge, now ?? (() => DateTime.UtcNow));


    /// <summary>The cache for a root process (none for other users, or with GANTRY_NO_INVENTORY_CACHE=1).</summary>
    /// <param name="configPath">The config file the caller read: editing it invalidates every record.</param>
    public static NvmlSnapshotCache? ForThisProcess(string? configPath, Log log)
    {
        if (Interop.GetEuid() != 0 || Environment.GetEnvironmentVariable(DisableVariable) is "1" or "true") return null;
        var dir = Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } d ? d : DefaultDirectory;
        var config = configPath is null ? null : $"{configPath} {(FileStamp.TryStat(configPath, out var s) ? s.ToString() : "-")}";
        var migMaxAge = double.TryParse(Environment.GetEnvironmentVariable(MigMaxAgeVariable), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds >= 0 ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        return new NvmlSnapshotCache(dir, config, 0, log, caller: configPath ?? "", migMaxAge: migMaxAge);
    }

    /// <summary>The query for <see cref="DiscoveryOptions.QueryNvml"/>: through this process's cache, or null (load NVML).</summary>
    public static NvmlQuery? QueryFor(string? configPath, Log log) => ForThisProcess(configPath, log) is { } cache ? cache.Query : null;

    /// <summary>The <see cref="NvmlQuery"/> discovery calls: the record when still valid, else NVML (and a new record).</summary>
    public bool Query(HostRoots roots, string library, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NvmlSnapshot? snapshot,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        var signals = HostSignals.Read(roots, library, _extra);
        var file = Path.Combine(_dir, Key(roots, _caller));
        snapshot = Read(file, signals);
        if (snapshot is not null) { error = null; _log.Debug($"NVML facts from {file} (host unchanged since they were taken)"); return true; }
        if (!_load(roots, library, out snapshot, out error)) return false;
        // Taken again after NVML ran: a change meanwhile must not be recorded under the signals from before it.
        if (HostSignals.Read(roots, library, _extra) == signals) Write(file, signals, snapshot);
        return true;
    }

    /// <summary>The record's name: FNV-1a 64 of the roots and the caller, so two hosts (a simulated one and "/") never share one.</summary>
    public static string Key(HostRoots roots, string caller = "")
    {
        var h = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes($"{roots.DriverRoot}\0{roots.DevRoot}\0{roots.ProcRoot}\0{roots.SysRoot}\0{caller}")) { h ^= b; h *= 0x100000001b3UL; }
        return "nvml-" + h.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) + ".json";
    }

    NvmlSnapshot? Read(string file, string signals)
    {
        if (!Trusted(_dir, directory: true) || !Trusted(Path.GetDirectoryName(_dir)!, directory: true)) return null;
        if (!FileStamp.TryLstat(file, out var s)) return null;
        if ((s.Mode & FileType.Mask) != FileType.Regular || s.Uid != _owner || (s.Mode & 0b111_111) != 0 || s.Size > MaxRecordBytes)
        {
            _log.Debug($"ignoring {file}: not a regular file of uid {_owner} that only its owner can read and write");
            return null;
        }
        NvmlSnapshot? snapshot;
        try { snapshot = SnapshotCodec.Decode(File.ReadAllBytes(file), signals); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (snapshot is null || !MigModeCanToggleUnseen(snapshot)) return snapshot;
        var age = _now() - DateTimeOffset.FromUnixTimeSeconds(s.MtimeSec).UtcDateTime.AddTicks(s.MtimeNsec / 100);
        if (age >= TimeSpan.Zero && age < _migMaxAge) return snapshot;
        _log.Debug($"{file} is {age.TotalSeconds:F0} s old and a GPU in it could have switched MIG mode unseen: asking NVML again");
        return null;
    }

    static bool MigModeCanToggleUnseen(NvmlSnapshot snapshot) => snapshot.Gpus.Any(g => g.MigCapable && g.MigDevices.Count == 0);

    void Write(string file, string signals, NvmlSnapshot snapshot)
    {
        try
        {
            if (!Directory.Exists(_dir)) Directory.CreateDirectory(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            if (!Trusted(_dir, directory: true)) { _log.Debug($"not keeping NVML facts in {_dir}: it is not root's alone"); return; }
            var existed = File.Exists(file);
            AtomicFile.Write(file, SnapshotCodec.Encode(signals, snapshot), UnixFileMode.UserRead | UnixFileMode.UserWrite, durable: false);
            if (!existed) Prune(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Debug($"not keeping NVML facts in {_dir}: {e.Message}");
        }
    }

    /// <summary>Records kept at most (one per set of host roots; simulated hosts come and go). A pruned one costs one NVML start.</summary>
    public const int MaxRecords = 32;

    void Prune(string keep)
    {
        var old = new DirectoryInfo(_dir).EnumerateFiles("nvml-*.json").Where(f => f.FullName != keep)
            .OrderByDescending(f => f.LastWriteTimeUtc).Skip(MaxRecords - 1);
        foreach (var f in old)
            try { f.Delete(); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // Owned by the expected user and writable by no one else; a link is not followed.
    bool Trusted(string path, bool directory) =>
        FileStamp.TryLstat(path, out var s) && s.Uid == _owner && (s.Mode & 0b010_010) == 0 &&
        (s.Mode & FileType.Mask) == (directory ? FileType.Directory : FileType.Regular);
}
