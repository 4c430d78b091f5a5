using Gantry.Cdi.Generate;
using Gantry.Common;
using Gantry.Discovery;
using Gantry.Requests;

namespace Gantry.Devices;

/// <summary>The ids Swarm gave a task, checked against this node's devices before anything is injected.</summary>
internal static class SwarmDeviceCheck
{
    /// <summary>What this node offers Swarm: each GPU's UUID, or its MIG devices' UUIDs when MIG is on.</summary>
    public static IReadOnlyList<string> NodeDevices(DriverInventory inv) =>
        inv.Gpus.SelectMany(g => g.MigEnabled ? g.MigDevices.Select(m => m.Uuid) : [g.Uuid]).ToList();

    public static void Check(DriverInventory inv, IReadOnlyList<KeyValuePair<string, string>> sources)
    {
        if (sources.Count == 0) return;
        var node = NodeDevices(inv);
        SwarmResource.CheckKnown(sources, id =>
        {
            try { SpecGenerator.Resolve(inv, id); return true; }
            catch (GantryException) { return false; }
        }, node);
    }
}
