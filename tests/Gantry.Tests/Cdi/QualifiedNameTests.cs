using Gantry.Cdi;

namespace Gantry.Tests.Cdi;

public class QualifiedNameTests
{
    [Theory]
    [InlineData("nvidia.com/gpu=0", "nvidia.com", "gpu", "0")]
    [InlineData("nvidia.com/gpu=all", "nvidia.com", "gpu", "all")]
    [InlineData("nvidia.com/gpu=GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c", "nvidia.com", "gpu", "GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c")]
    [InlineData("nvidia.com/gpu=MIG-1:2", "nvidia.com", "gpu", "MIG-1:2")]
    [InlineData("example.com/device.coherent=0", "example.com", "device.coherent", "0")]
    [InlineData("vendor_1-x.io/class_2-y=a.b_c-d:e", "vendor_1-x.io", "class_2-y", "a.b_c-d:e")]
    public void Valid_names_split_into_vendor_class_and_name(string text, string vendor, string cls, string name)
    {
        Assert.True(QualifiedName.TryParse(text, out var q, out var error), error);
        Assert.Equal(new QualifiedName(vendor, cls, name), q);
        Assert.Equal(text, q.ToString());
        Assert.Equal(vendor + "/" + cls, q.Kind);
    }

    [Theory]
    [InlineData("gpu0", "is not a qualified device name")]
    [InlineData("nvidia.com/gpu=", "is not a qualified device name")]
    [InlineData("=0", "is not a qualified device name")]
    [InlineData("nvidia.com=0", "is not of the form vendor/class")]
    [InlineData("/gpu=0", "is not of the form vendor/class")]
    [InlineData("nvidia.com/=0", "is not of the form vendor/class")]
    [InlineData("1vendor/gpu=0", "must start with a letter")]
    [InlineData("vendor./gpu=0", "must end with a letter or digit")]
    [InlineData("vendor/gpu/x=0", "invalid character '/'")]
    [InlineData("vendor/gpu=-0", "must start with a letter or digit")]
    [InlineData("vendor/gpu=0-", "must end with a letter or digit")]
    [InlineData("vendor/gpu=a b", "invalid character ' '")]
    [InlineData("vendor/gpu=a=b", "invalid character '='")]
    public void Invalid_names_say_why(string text, string reason)
    {
        Assert.False(QualifiedName.TryParse(text, out var q, out var error));
        Assert.Null(q);
        Assert.Contains(reason, error);
    }

    [Theory]
    [InlineData("nvidia.com/gpu=0", true)]
    [InlineData("0", false)]
    [InlineData("GPU-abc", false)]
    [InlineData("all", false)]
    public void Qualified_names_are_told_apart_from_plain_device_ids(string text, bool qualified) =>
        Assert.Equal(qualified, QualifiedName.IsQualified(text));
}
