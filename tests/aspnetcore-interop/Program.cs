// Reference implementation of the hubs-glib interop server contract
// (interop-server.md, Part A and Part B) on ASP.NET Core itself.
//
// It exists to prove the JavaScript integration tests in tests/js right: they
// must pass against this server before they judge hubs-glib's own interop
// server. Beyond the Microsoft.AspNetCore.App shared framework only the
// MessagePack hub protocol package is used; the JWT of /authorizedhub is
// issued and checked by hand (Jwt.cs).
//
//   dotnet build -c Release
//   dotnet bin/Release/net10.0/Interop.dll --port 0
//
// Set INTEROP_LOG_LEVEL (Trace, Debug, Information, ...) to get ASP.NET Core's
// logs on stderr; stdout carries only the "Now listening on: " line.

using System.Globalization;
using System.Net;
using FunctionalTests;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;

namespace Interop;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        int port = 0;
        for (int i = 0; i < args.Length; i++)
        {
            string? value = null;
            if (args[i] == "--port" && i + 1 < args.Length)
            {
                value = args[++i];
            }
            else if (args[i].StartsWith("--port=", StringComparison.Ordinal))
            {
                value = args[i].Substring("--port=".Length);
            }

            if (value == null || !int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            {
                Console.Error.WriteLine($"usage: Interop --port N   (unexpected argument '{args[i]}')");
                return 2;
            }
        }

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = Array.Empty<string>(),
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.Logging.ClearProviders();
        var logLevel = Environment.GetEnvironmentVariable("INTEROP_LOG_LEVEL");
        if (!string.IsNullOrEmpty(logLevel))
        {
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(logLevel, ignoreCase: true));
        }

        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, port));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        builder.Services.AddSingleton<JwtKey>();
        builder.Services.AddSingleton<RedirectCounter>();

        builder.Services
            .AddSignalR(o => o.EnableDetailedErrors = true)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.PropertyNamingPolicy = null)
            .AddMessagePackProtocol()
            .AddHubOptions<FeatureHub>(o => o.EnableDetailedErrors = false);

        builder.Services
            .AddAuthentication(InteropAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, InteropAuthenticationHandler>(InteropAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            o.AddPolicy(HubWithAuthorization.PolicyName, policy =>
            {
                policy.AddAuthenticationSchemes(InteropAuthenticationHandler.SchemeName);
                policy.RequireClaim(System.Security.Claims.ClaimTypes.NameIdentifier);
            });
        });

        var app = builder.Build();

        // Row 1 and 2 of the contract: CORS headers for any request with an
        // Origin, then 204 for any OPTIONS request.
        app.Use((context, next) =>
        {
            var origin = context.Request.Headers.Origin;
            if (!string.IsNullOrEmpty(origin))
            {
                context.Response.Headers.AccessControlAllowOrigin = origin;
                context.Response.Headers.AccessControlAllowCredentials = "true";
                var method = context.Request.Headers.AccessControlRequestMethod;
                if (!string.IsNullOrEmpty(method))
                {
                    context.Response.Headers.AccessControlAllowMethods = method;
                }
                var headers = context.Request.Headers.AccessControlRequestHeaders;
                if (!string.IsNullOrEmpty(headers))
                {
                    context.Response.Headers.AccessControlAllowHeaders = headers;
                }
            }

            if (HttpMethods.IsOptions(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            }

            return next(context);
        });

        // /echoredirect: 307 to the same path on /echo. The target is written
        // as an absolute URL (the contract's choice, for the Node SSE client).
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/echoredirect", StringComparison.OrdinalIgnoreCase))
            {
                var path = context.Request.Path.ToString().Replace("echoredirect", "echo");
                var target = $"{context.Request.Scheme}://{context.Request.Host}{path}{context.Request.QueryString}";
                context.Response.Redirect(target, permanent: false, preserveMethod: true);
                return Task.CompletedTask;
            }
            return next(context);
        });

        // /redirect: a negotiate answer that sends the client to /testHub.
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/redirect", StringComparison.OrdinalIgnoreCase))
            {
                var counter = context.RequestServices.GetRequiredService<RedirectCounter>();
                var url = context.Request.Query["baseUrl"] + "/testHub?numRedirects=" + counter.Next();
                return context.Response.WriteAsync($"{{ \"url\": \"{url}\" }}");
            }
            return next(context);
        });

        // Cookies on every negotiate, whatever its answer turns out to be.
        app.Use((context, next) =>
        {
            if (context.Request.Path.Value?.Contains("/negotiate", StringComparison.Ordinal) == true)
            {
                var options = new CookieOptions();
                var expired = new CookieOptions { Expires = DateTimeOffset.Now.AddHours(-1) };
                if (context.Request.IsHttps)
                {
                    options.Secure = expired.Secure = true;
                    options.SameSite = expired.SameSite = SameSiteMode.None;
                }
                context.Response.Cookies.Append("testCookie", "testValue", options);
                context.Response.Cookies.Append("testCookie2", "testValue2", options);
                context.Response.Cookies.Append("expiredCookie", "doesntmatter", expired);
            }
            return next(context);
        });

        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/bad-negotiate", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return context.Response.WriteAsync("Some response from server");
            }
            return next(context);
        });

        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHub<TestHub>("/testhub");
        app.MapHub<TestHub>("/testhub-nowebsockets",
            o => o.Transports = HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling);
        app.MapHub<UncreatableHub>("/uncreatable");
        app.MapHub<HubWithAuthorization>("/authorizedhub");
        app.MapConnectionHandler<EchoConnectionHandler>("/echo");
        app.MapHub<FeatureHub>("/featurehub");

        app.MapGet("/generateJwtToken", (HttpContext context, JwtKey key) =>
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(key.Issue("testuser", TimeSpan.FromSeconds(5)));
        });

        app.MapGet("/clientresult/{connectionId}", async (HttpContext context, string connectionId, IHubContext<TestHub> hub) =>
        {
            string body;
            try
            {
                var result = await hub.Clients.Client(connectionId).InvokeAsync<int>("Result", context.RequestAborted);
                body = result.ToString(CultureInfo.InvariantCulture);
            }
            catch (Exception ex)
            {
                body = ex.Message;
            }
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(body);
        });

        app.MapPost("/featurehub-notify", async (HttpContext context, IHubContext<FeatureHub> hub) =>
        {
            string? text = context.Request.Query["text"];
            await hub.Clients.All.SendAsync("Notify", text);
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("ok");
        });

        await app.StartAsync();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Console.Out.WriteLine("Now listening on: " + addresses.First());
        Console.Out.Flush();

        await app.WaitForShutdownAsync();
        return 0;
    }
}

public sealed class RedirectCounter
{
    private int _count;

    public int Next() => Interlocked.Increment(ref _count);
}
