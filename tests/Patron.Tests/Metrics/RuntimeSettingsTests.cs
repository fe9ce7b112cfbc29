using System.Text.Json.Nodes;

namespace Patron.Tests.Metrics;

/// <summary>
/// The runtime settings the service ships in its <c>Patron.runtimeconfig.json</c>, which the runtime
/// reads before any code runs: each was measured under load (Patron.csproj says where), and a
/// rebuilt project file that lost one would lose it silently.
/// </summary>
public sealed class RuntimeSettingsTests
{
    private static JsonObject ConfigProperties()
    {
        var file = Path.ChangeExtension(typeof(Patron.Members.MemberPoints).Assembly.Location, ".runtimeconfig.json");
        return JsonNode.Parse(File.ReadAllText(file))!["runtimeOptions"]!["configProperties"]!.AsObject();
    }

    [Fact]
    public void TheServiceRunsOneWorkstationHeapWithTheRuntimesGen0Budget()
    {
        var properties = ConfigProperties();

        Assert.False(properties["System.GC.Server"]!.GetValue<bool>());
        // A 64 MB cap helped heavy reads at 256 connections and cost points add a tenth of its
        // throughput at 32 (bench/results/gc-gen0-2026-12-06.md): not set.
        Assert.False(properties.ContainsKey("System.GC.Gen0MaxBudget"));
    }

    [Fact]
    public void IdleThreadPoolWorkersDoNotSpin()
    {
        Assert.Equal(0, ConfigProperties()["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]!.GetValue<int>());
    }
}
