using System.Text.Json;
using System.Text.Json.Serialization;

namespace LsmRaft.Client.Wire;

/// <summary>The JSON settings of the API: camelCase names, enums as strings.</summary>
public static class WireJson
{
    /// <summary>
    /// For reading requests on the server: unknown members, missing required members and nulls in non-nullable
    /// members are errors, so a typo in a body is a 400 rather than a silently ignored field.
    /// </summary>
    public static JsonSerializerOptions Strict { get; } = Create(strict: true);

    /// <summary>For writing bodies and for reading answers in the client: tolerant of members added by newer servers.</summary>
    public static JsonSerializerOptions Lenient { get; } = Create(strict: false);

    private static JsonSerializerOptions Create(bool strict)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            RespectNullableAnnotations = strict,
            RespectRequiredConstructorParameters = strict,
            UnmappedMemberHandling = strict ? JsonUnmappedMemberHandling.Disallow : JsonUnmappedMemberHandling.Skip,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
