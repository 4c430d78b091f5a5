namespace Gantry.Cdi.Generate;

// The last step of generation: dedupe, move what is common out of the devices, sort, add the merged
// "all" device, and stamp the lowest cdiVersion that can express the result (what Podman 4.3 needs).
internal static class SpecAssembly
{
    public static Spec Assemble(Spec spec, bool addAllDevice)
    {
        var simplified = SpecTransforms.Simplify(spec);
        if (addAllDevice) simplified = SpecTransforms.AddMergedAllDevice(simplified);
        simplified.CdiVersion = SpecVersion.Minimum(simplified);
        return simplified;
    }
}
