using Gantry.Requests;

namespace Gantry.Tests.Requests;

public sealed class RequirementTests
{
    static readonly HostFacts Host = new("12.4", "550.54.15");

    [Theory]
    [InlineData("cuda>=12.0", true)]
    [InlineData("cuda>=12.4", true)]
    [InlineData("cuda>12.4", false)]
    [InlineData("cuda>=12.5", false)]
    [InlineData("cuda=12.4.0", true)]
    [InlineData("cuda!=12.4", false)]
    [InlineData("cuda<13", true)]
    [InlineData("cuda<=12", false)]
    [InlineData("driver>=550", true)]
    [InlineData("driver>=550.54.16", false)]
    [InlineData("driver<551,driver>=550", true)]
    [InlineData("CUDA>=12.0", true)]
    [InlineData("cuda>=99.0 driver>=500", true)]  // space: OR
    [InlineData("cuda>=99.0,driver>=500", false)] // comma: AND
    [InlineData("arch>=8.0", true)]
    [InlineData("arch>=9.0", false)]
    [InlineData("brand=tesla", true)]
    [InlineData("brand=TESLA", true)]
    [InlineData("brand!=tesla", false)]
    [InlineData("brand=geforce", false)]
    [InlineData("cuda>=11.0 brand=tesla,driver>=418,driver<419 brand=tesla,driver>=450,driver<451", true)]
    [InlineData("", true)]
    public void Expressions_evaluate_like_libnvidia_container(string expression, bool holds) =>
        Assert.Equal(holds, Requirement.Parse(expression).IsSatisfied(Host, new DeviceFacts("8.0", "tesla")));

    [Theory]
    [InlineData("12", "12.0", 0)]
    [InlineData("12", "12.0.0", 0)]
    [InlineData("12.1", "12", 1)]
    [InlineData("12", "12.1", -1)]
    [InlineData("550.54.15", "550.100", -1)]
    [InlineData("10.0", "9.9", 1)]
    public void Versions_compare_numerically_component_by_component(string a, string b, int expected) =>
        Assert.Equal(expected, Math.Sign(Requirement.CompareVersions(a, b)));

    [Theory]
    [InlineData("foo>=1")]
    [InlineData(">=1")]
    [InlineData("cuda>=")]
    [InlineData("cuda=>12")]
    [InlineData("cuda>=12a")]
    [InlineData("brand>=tesla")]
    [InlineData("cuda")]
    public void Malformed_expressions_are_invalid(string expression)
    {
        var e = Assert.Throws<RequirementException>(() => Requirement.Parse(expression));
        Assert.Equal("requirement error: invalid expression", e.Message);
        Assert.StartsWith($"requirement error: invalid expression \"{expression}\": ", e.Described);
    }

    [Theory]
    [InlineData("cuda>=abc", "requirement error: invalid expression \"cuda>=abc\": 'abc' is not a version (digits and dots, e.g. 12.4)")]
    [InlineData("cuda>=12.0,colour=blue", "requirement error: invalid expression \"colour=blue\": 'colour' is not a key (use cuda, driver, arch or brand)")]
    [InlineData("cuda>>12", "requirement error: invalid expression \"cuda>>12\": '>>' is not an operator (use =, !=, <, <=, >, >=)")]
    [InlineData("brand>tesla", "requirement error: invalid expression \"brand>tesla\": brand takes only = or !=")]
    [InlineData("cuda", "requirement error: invalid expression \"cuda\": expected KEY OP VALUE, e.g. cuda>=12.0")]
    public void The_runtimes_message_names_the_bad_factor_and_why(string expression, string described)
    {
        var e = Assert.Throws<RequirementException>(() => RequirementCheck.Check([expression], new HostFacts("12.4", "550.54.15"), []));
        Assert.Equal(described, e.Described);
        Assert.Equal("requirement error: invalid expression", e.Message);
    }

    [Fact]
    public void Missing_facts_satisfy_a_factor()
    {
        Assert.True(Requirement.Parse("cuda>=99").IsSatisfied(new HostFacts(null, null), null));
        Assert.True(Requirement.Parse("arch>=99,brand=quadro").IsSatisfied(Host, null));
    }

    static ContainerFacts Env(params string[] env) => new(env, [], new Dictionary<string, string>(), false);

    [Fact]
    public void Every_require_variable_but_jetpack_is_collected_and_legacy_images_add_their_cuda()
    {
        var c = Env("NVIDIA_REQUIRE_B=driver>=1", "NVIDIA_REQUIRE_A=arch>=1", "NVIDIA_REQUIRE_JETPACK=csv-mounts=all", "CUDA_VERSION=11.8.0");
        Assert.Equal(["arch>=1", "driver>=1", "cuda>=11.8"], RequirementCheck.Collect(c, false));
        Assert.Empty(RequirementCheck.Collect(c, true));
        Assert.Empty(RequirementCheck.Collect(Env("NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=true"), false));
        Assert.Equal(["cuda>=99"], RequirementCheck.Collect(Env("NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=no"), false));
        Assert.Throws<RequirementException>(() => RequirementCheck.Collect(Env("CUDA_VERSION=eleven"), false));
    }

    [Fact]
    public void An_unmet_cuda_requirement_fails_with_the_originals_message()
    {
        var e = Assert.Throws<RequirementException>(() => RequirementCheck.Check(["cuda>=99.0 driver>=999"], Host, []));
        Assert.Equal("requirement error: unsatisfied condition: cuda>=99.0, please update your driver to a newer version, or use an earlier cuda container", e.Message);
        e = Assert.Throws<RequirementException>(() => RequirementCheck.Check(["arch>=9.0"], Host, [new("9.0", "tesla"), new("8.0", "tesla")]));
        Assert.Equal("requirement error: unsatisfied condition: arch>=9.0", e.Message);
        RequirementCheck.Check(["arch>=8.0"], Host, [new("9.0", "tesla"), new("8.0", "tesla")]);
    }
}
