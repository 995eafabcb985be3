// HS256 JSON Web Tokens, issued and checked by hand (no NuGet packages), and
// the authentication handler of the interop server's hubs.

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Interop;

/// <summary>The per-process signing key and the token format of /generateJwtToken.</summary>
public sealed class JwtKey
{
    public const string Issuer = "SignalRTestServer";
    public const string Audience = "SignalRTests";

    // What JwtBearer allows by default between the token's times and the clock.
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public string Issue(string nameIdentifier, TimeSpan lifetime)
    {
        var header = Base64Url(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("nameid", nameIdentifier);
            writer.WriteNumber("exp", DateTimeOffset.UtcNow.Add(lifetime).ToUnixTimeSeconds());
            writer.WriteString("iss", Issuer);
            writer.WriteString("aud", Audience);
            writer.WriteEndObject();
        }
        var payload = Base64Url(buffer.ToArray());

        var signature = Base64Url(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(header + "." + payload)));
        return header + "." + payload + "." + signature;
    }

    /// <summary>Checks signature and lifetime; issuer and audience are not checked.</summary>
    public bool TryValidate(string token, out ClaimsIdentity? identity, out string error)
    {
        identity = null;
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            error = "The token is malformed";
            return false;
        }

        byte[] headerBytes, payloadBytes, signature;
        try
        {
            headerBytes = FromBase64Url(parts[0]);
            payloadBytes = FromBase64Url(parts[1]);
            signature = FromBase64Url(parts[2]);
        }
        catch (FormatException)
        {
            error = "The token is malformed";
            return false;
        }

        try
        {
            using (var header = JsonDocument.Parse(headerBytes))
            {
                if (header.RootElement.ValueKind != JsonValueKind.Object ||
                    !header.RootElement.TryGetProperty("alg", out var alg) ||
                    alg.ValueKind != JsonValueKind.String || alg.GetString() != "HS256")
                {
                    error = "The signature key was not found";
                    return false;
                }
            }

            var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
            if (!CryptographicOperations.FixedTimeEquals(expected, signature))
            {
                error = "The signature is invalid";
                return false;
            }

            using var payload = JsonDocument.Parse(payloadBytes);
            var root = payload.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "The token is malformed";
                return false;
            }

            var now = DateTimeOffset.UtcNow;
            if (!root.TryGetProperty("exp", out var exp) || exp.ValueKind != JsonValueKind.Number)
            {
                error = "The token has no expiration";
                return false;
            }
            var expires = DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64());
            if (expires + ClockSkew < now)
            {
                error = $"The token expired at '{expires.UtcDateTime:MM/dd/yyyy HH:mm:ss}'";
                return false;
            }
            if (root.TryGetProperty("nbf", out var nbf) && nbf.ValueKind == JsonValueKind.Number &&
                DateTimeOffset.FromUnixTimeSeconds(nbf.GetInt64()) - ClockSkew > now)
            {
                error = "The token is not valid yet";
                return false;
            }

            var claims = new List<Claim>();
            foreach (var property in root.EnumerateObject())
            {
                var type = property.Name switch
                {
                    // JwtSecurityTokenHandler's default inbound claim type map.
                    "nameid" or "sub" => ClaimTypes.NameIdentifier,
                    "unique_name" => ClaimTypes.Name,
                    "email" => ClaimTypes.Email,
                    "role" => ClaimTypes.Role,
                    _ => property.Name,
                };
                if (property.Value.ValueKind == JsonValueKind.Array)
                {
                    foreach (var item in property.Value.EnumerateArray())
                    {
                        claims.Add(new Claim(type, ClaimText(item), ValueType(item), Issuer));
                    }
                }
                else
                {
                    claims.Add(new Claim(type, ClaimText(property.Value), ValueType(property.Value), Issuer));
                }
            }

            identity = new ClaimsIdentity(claims, InteropAuthenticationHandler.SchemeName);
            error = "";
            return true;
        }
        catch (JsonException)
        {
            error = "The token is malformed";
            return false;
        }
    }

    private static string ClaimText(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();

    private static string ValueType(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => ClaimValueTypes.Integer64,
        JsonValueKind.True or JsonValueKind.False => ClaimValueTypes.Boolean,
        _ => ClaimValueTypes.String,
    };

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        switch (s.Length % 4)
        {
            case 0: break;
            case 2: s += "=="; break;
            case 3: s += "="; break;
            default: throw new FormatException();
        }
        return Convert.FromBase64String(s);
    }
}

/// <summary>
/// The one authentication scheme of the interop server. It looks at requests
/// of hub endpoints only. The token is the Authorization header when that is
/// non-empty (a leading "Bearer " removed), otherwise the access_token query
/// parameter. On /featurehub the token is the user's name; on every other hub
/// it must be a JWT from /generateJwtToken.
/// </summary>
public sealed class InteropAuthenticationHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "Bearer";

    private readonly JwtKey _key;

    public InteropAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
        UrlEncoder encoder, JwtKey key)
        : base(options, logger, encoder)
    {
        _key = key;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var hub = Context.GetEndpoint()?.Metadata.GetMetadata<HubMetadata>();
        if (hub == null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string? token = Request.Headers.Authorization;
        if (!string.IsNullOrEmpty(token))
        {
            if (token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                token = token.Substring("Bearer ".Length).Trim();
            }
        }
        else
        {
            token = Request.Query["access_token"];
        }

        if (string.IsNullOrEmpty(token))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        ClaimsIdentity? identity;
        if (hub.HubType == typeof(FeatureHub))
        {
            identity = new ClaimsIdentity(new[]
            {
                new Claim(ClaimTypes.NameIdentifier, token),
                new Claim(ClaimTypes.Name, token),
            }, SchemeName);
        }
        else if (!_key.TryValidate(token, out identity, out var error))
        {
            return Task.FromResult(AuthenticateResult.Fail(error));
        }

        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity!), SchemeName);
        return Task.FromResult(AuthenticateResult.Success(ticket));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = result.Failure != null
            ? $"Bearer error=\"invalid_token\", error_description=\"{result.Failure.Message}\""
            : "Bearer";
    }
}
