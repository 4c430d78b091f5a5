using Gantry.Config;

namespace Gantry.Tests.Config;

public sealed class TomlEditorTests
{
    const string Indented = """
        # containerd config
        version = 2

        [plugins]

          [plugins."io.containerd.grpc.v1.cri"]
            sandbox_image = "pause:3.9" # pinned

            [plugins."io.containerd.grpc.v1.cri".containerd]
              default_runtime_name = "runc"

              [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

                # the default runtime
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"

                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                    SystemdCgroup = true

          # snapshotter settings
          [plugins."io.containerd.snapshotter.v1.overlayfs"]
            root_path = ""

        """;

    static readonly string[] Cri = ["plugins", "io.containerd.grpc.v1.cri"];

    [Fact]
    public void Changing_a_value_changes_one_line_and_keeps_its_comment()
    {
        var e = TomlEditor.Parse(Indented, "c.toml");
        Assert.True(e.Set([.. Cri, "sandbox_image"], "pause:3.10"));
        Assert.Equal(Indented.Replace("\"pause:3.9\" # pinned", "\"pause:3.10\" # pinned"), e.Text);
    }

    [Fact]
    public void Setting_an_equal_value_changes_nothing()
    {
        var e = TomlEditor.Parse(Indented, "c.toml");
        Assert.False(e.Set([.. Cri, "containerd", "default_runtime_name"], "runc"));
        Assert.Equal(Indented, e.Text);
    }

    [Fact]
    public void A_new_table_goes_after_its_siblings_indented_like_them_and_removing_it_restores_the_bytes()
    {
        var e = TomlEditor.Parse(Indented, "c.toml");
        string[] nvidia = [.. Cri, "containerd", "runtimes", "nvidia"];
        e.Set([.. nvidia, "runtime_type"], "io.containerd.runc.v2");
        e.Set([.. nvidia, "options", "BinaryName"], "/usr/bin/nvidia-container-runtime");
        var text = e.Text;
        Assert.Contains("""
                    SystemdCgroup = true

                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
                  runtime_type = "io.containerd.runc.v2"

                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
                    BinaryName = "/usr/bin/nvidia-container-runtime"

          # snapshotter settings
        """, text);
        Assert.True(e.Remove(nvidia));
        e.PruneEmpty(nvidia[..^1]);
        Assert.Equal(Indented, e.Text);
    }

    [Fact]
    public void A_top_level_key_is_added_before_the_tables()
    {
        var e = TomlEditor.Parse(Indented, "c.toml");
        e.Set(["imports"], new List<string> { "/etc/containerd/conf.d/*.toml" });
        Assert.StartsWith("# containerd config\nversion = 2\nimports = [\"/etc/containerd/conf.d/*.toml\"]\n\n[plugins]\n", e.Text);
        e.Remove("imports");
        Assert.Equal(Indented, e.Text);
    }

    [Fact]
    public void A_file_without_a_final_newline_gets_one_before_an_appended_line()
    {
        var e = TomlEditor.Parse("[a]\nx = 1", "c.toml");
        e.Set(["a", "y"], "z");
        Assert.Equal("[a]\nx = 1\ny = \"z\"\n", e.Text);
    }

    [Fact]
    public void Pruning_removes_only_tables_that_became_empty()
    {
        var e = TomlEditor.Parse("[a]\n[a.b]\n[a.b.c]\nk = 1\n[a.d]\nq = 2\n", "c.toml");
        e.Remove("a", "b", "c");
        e.PruneEmpty(["a", "b"]);
        Assert.Equal("[a]\n[a.d]\nq = 2\n", e.Text);
    }

    [Fact]
    public void Removing_a_key_keeps_the_comments_around_it()
    {
        var e = TomlEditor.Parse("[a]\n  x = 1\n  # about y\n  y = 2\n  z = 3 # zed\n", "c.toml");
        e.Remove("a", "y");
        Assert.Equal("[a]\n  x = 1\n  # about y\n  z = 3 # zed\n", e.Text);
    }
}
