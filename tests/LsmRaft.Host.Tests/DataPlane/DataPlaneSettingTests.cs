using LsmRaft.Host.Config;

namespace LsmRaft.Host.Tests.DataPlane;

/// <summary>LSMRAFT_DATA_PLANE / --data-plane / "dataPlane": kestrel (the default) or akka, anything else refused by name.</summary>
public sealed class DataPlaneSettingTests
{
    private static ConfigResult Load(Dictionary<string, string?> env, Dictionary<string, string>? flags = null) =>
        ConfigLoader.Load(new ConfigSources(null, env, flags ?? new Dictionary<string, string>(), InContainer: false));

    [Fact]
    public void Kestrel_is_the_default_and_akka_is_chosen_by_environment_or_flag()
    {
        Load(new()).Config!.DataPlane.Should().Be(DataPlaneKind.Kestrel);
        Load(new() { ["LSMRAFT_DATA_PLANE"] = "akka" }).Config!.DataPlane.Should().Be(DataPlaneKind.Akka);
        Load(new() { ["LSMRAFT_DATA_PLANE"] = "akka" }, new() { ["DataPlane"] = "Kestrel" }).Config!.DataPlane.Should().Be(DataPlaneKind.Kestrel, "a flag beats the environment");
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("1")]
    [InlineData("")]
    public void Another_value_is_refused_naming_the_setting_and_the_choices(string value)
    {
        var result = Load(new() { ["LSMRAFT_DATA_PLANE"] = value });

        result.IsValid.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().Contain("LSMRAFT_DATA_PLANE").And.Contain("kestrel or akka");
    }
}
