namespace Gantry.Diagnostics;

// `gantry doctor`'s checks, in the order they are printed: configuration, driver, Docker, CDI, kernel.
internal static class Doctor
{
    public static List<Finding> Check(DoctorSetup setup) => Check(DoctorFacts.Gather(setup));

    public static List<Finding> Check(DoctorFacts facts) =>
    [
        .. ConfigChecks.Run(facts),
        .. DriverChecks.Run(facts),
        .. DockerChecks.Run(facts),
        .. CdiChecks.Run(facts),
        .. KernelChecks.Run(facts),
    ];
}
