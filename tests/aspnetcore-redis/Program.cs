// The hubs of the interop contract on ASP.NET Core with the Redis backplane
// (Microsoft.AspNetCore.SignalR.StackExchangeRedis): the ASP.NET Core side of
// tests/js/redis-mixed.test.mjs, where it shares one Redis with a hubs-glib
// interop server started with the same --redis address.
//
//   dotnet build -c Release
//   dotnet bin/Release/net10.0/RedisInterop.dll --port 0 --redis 127.0.0.1:6379 [--channel-prefix P]
//
// The hubs are those of ../aspnetcore-interop, compiled from its files
// unchanged (see RedisInterop.csproj), so the backplane's channels are named
// after their full type names: "Interop.FeatureHub:all",
// "FunctionalTests.TestHub:connection:ID", ... With --channel-prefix P they
// become "P" + that name (StackExchange.Redis's ChannelPrefix, as a literal).
//
// It serves /featurehub (FeatureHub, detailed errors off, users from the
// token as in the contract), /testhub (TestHub), GET /clientresult/{id},
// POST /featurehub-notify and POST /featurehub-group/{add|remove}?connectionId=ID&group=G
// (group membership of a connection on any server, through the hub context),
// with the JSON and MessagePack protocols. It listens
// on 127.0.0.1 only and prints "Now listening on: http://127.0.0.1:PORT" on
// stdout once the hubs' Redis lifetime managers exist (their subscriptions
// are made in the background: wait for them with PUBSUB NUMSUB). Set
// INTEROP_LOG_LEVEL (Trace, Debug, Information, ...) for ASP.NET Core's logs
// on stderr.

using System.Globalization;
using System.Net;
using FunctionalTests;
using Interop;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using RedisChannel = StackExchange.Redis.RedisChannel;

namespace RedisInterop;

public static class Program
{
    private static int Usage(string why)
    {
        Console.Error.WriteLine($"usage: RedisInterop --port N --redis HOST:PORT [--channel-prefix P]   ({why})");
        return 2;
    }

    public static async Task<int> Main(string[] args)
    {
        int port = 0;
        string? redis = null;
        string? channelPrefix = null;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string? value = null;
            int eq = name.IndexOf('=');
            if (name.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                value = name.Substring(eq + 1);
                name = name.Substring(0, eq);
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }
            if (value == null)
            {
                return Usage($"option '{name}' needs a value");
            }

            switch (name)
            {
                case "--port":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
                    {
                        return Usage($"bad port '{value}'");
                    }
                    break;
                case "--redis":
                    redis = value;
                    break;
                case "--channel-prefix":
                    channelPrefix = value;
                    break;
                default:
                    return Usage($"unexpected argument '{name}'");
            }
        }
        if (string.IsNullOrEmpty(redis))
        {
            return Usage("--redis is required");
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

        builder.Services
            .AddSignalR(o => o.EnableDetailedErrors = true)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.PropertyNamingPolicy = null)
            .AddMessagePackProtocol()
            .AddHubOptions<FeatureHub>(o => o.EnableDetailedErrors = false)
            .AddStackExchangeRedis(redis, o =>
            {
                // Fail fast in tests rather than wait StackExchange.Redis's 5 s.
                o.Configuration.AbortOnConnectFail = false;
                if (channelPrefix != null)
                {
                    o.Configuration.ChannelPrefix = RedisChannel.Literal(channelPrefix);
                }
            });

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

        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHub<TestHub>("/testhub");
        app.MapHub<FeatureHub>("/featurehub");

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

        // Group membership of any connection, wherever it lives, through the
        // hub context: a connection on another server is added (or removed)
        // by its owner, which acknowledges on the backplane. Answers "ok" once
        // acknowledged, or the error's message.
        app.MapPost("/featurehub-group/{action}", async (HttpContext context, string action, IHubContext<FeatureHub> hub) =>
        {
            string connectionId = context.Request.Query["connectionId"].ToString();
            string group = context.Request.Query["group"].ToString();
            string body = "ok";
            try
            {
                if (action == "add")
                {
                    await hub.Groups.AddToGroupAsync(connectionId, group, context.RequestAborted);
                }
                else if (action == "remove")
                {
                    await hub.Groups.RemoveFromGroupAsync(connectionId, group, context.RequestAborted);
                }
                else
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    body = "add or remove";
                }
            }
            catch (Exception ex)
            {
                body = ex.Message;
            }
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(body);
        });

        await app.StartAsync();

        // The Redis lifetime managers connect and subscribe from their
        // constructors: make them now rather than on the first connection.
        app.Services.GetRequiredService<HubLifetimeManager<FeatureHub>>();
        app.Services.GetRequiredService<HubLifetimeManager<TestHub>>();

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Console.Out.WriteLine("Now listening on: " + addresses.First());
        Console.Out.Flush();

        await app.WaitForShutdownAsync();
        return 0;
    }
}
