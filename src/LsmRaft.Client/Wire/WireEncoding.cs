using System.Buffers.Text;
using System.Text;
using System.Text.Unicode;

namespace LsmRaft.Client.Wire;

/// <summary>Converts keys and values between bytes and their wire strings ("utf8" or "base64url").</summary>
public static class WireEncoding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>True for the encodings the API accepts; null means the default, utf8.</summary>
    public static bool IsKnown(string? encoding) => encoding is null or WireNames.Utf8 or WireNames.Base64Url;

    /// <summary>Decodes <paramref name="text"/>; throws <see cref="FormatException"/> naming the problem when it is not valid in <paramref name="encoding"/>.</summary>
    public static byte[] Decode(string text, string? encoding)
    {
        switch (encoding)
        {
            case null or WireNames.Utf8:
                return Encoding.UTF8.GetBytes(text);
            case WireNames.Base64Url:
                try
                {
                    return Base64Url.DecodeFromChars(text);
                }
                catch (FormatException)
                {
                    throw new FormatException($"'{Truncate(text)}' is not valid base64url (RFC 4648 §5: A-Z a-z 0-9 - _, no padding needed).");
                }
            default:
                throw new FormatException($"Unknown encoding '{Truncate(encoding)}': expected '{WireNames.Utf8}' or '{WireNames.Base64Url}'.");
        }
    }

    /// <summary>Encodes bytes as a string of <paramref name="encoding"/>; for utf8 the bytes must be valid UTF-8.</summary>
    public static string Encode(ReadOnlySpan<byte> data, string encoding) => encoding switch
    {
        WireNames.Utf8 => StrictUtf8.GetString(data),
        WireNames.Base64Url => Base64Url.EncodeToString(data),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Expected utf8 or base64url."),
    };

    /// <summary>utf8 when every part is valid UTF-8 (so it reads as text), else base64url.</summary>
    public static string Choose(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) =>
        Utf8.IsValid(first) && Utf8.IsValid(second) ? WireNames.Utf8 : WireNames.Base64Url;

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
