using System.Text.Json;
using System.Text.Json.Serialization;

namespace LsmRaft.Protocol.Cluster;

/// <summary>
/// A node id in JSON: written as a number; read from a number or from a string holding an integer id or a node name
/// (<c>"to": "n2"</c>), as <see cref="NodeIds.TryParse"/> accepts it. Anything else is a <see cref="JsonException"/>
/// naming the accepted forms.
/// </summary>
public sealed class NodeIdJsonConverter : JsonConverter<ulong>
{
    public override ulong Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out ulong number) && number is >= 1 and <= NodeIds.MaxNumericId or >= NodeIds.NameIdBase and < NodeIds.NameIdBase << 1)
            return number;
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && NodeIds.TryParse(text, out ulong id))
            return id;
        throw new JsonException($"A node id must be {NodeIds.Accepted}.");
    }

    public override void Write(Utf8JsonWriter writer, ulong value, JsonSerializerOptions options) => writer.WriteNumberValue(value);
}
