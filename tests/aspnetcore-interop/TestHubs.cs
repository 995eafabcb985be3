// Part A of the interop contract: the hubs and the raw connection handler of
// the application that ASP.NET Core's JavaScript functional tests run against.
// The namespace is FunctionalTests because an error text the clients see
// names the type 'FunctionalTests.UncreatableHub'.

using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.SignalR;

namespace FunctionalTests;

public class CustomObject
{
    public string? Name { get; set; }

    public int Value { get; set; }
}

public class ComplexObject
{
    public string? String { get; set; }

    public int[]? IntArray { get; set; }

    public byte[]? ByteArray { get; set; }

    public Guid Guid { get; set; }

    public DateTime DateTime { get; set; }
}

public class TestHub : Hub
{
    private readonly IHubContext<TestHub> _context;

    public TestHub(IHubContext<TestHub> context)
    {
        _context = context;
    }

    public string Echo(string message) => message;

    public string GetCallerConnectionId() => Context.ConnectionId;

    public int GetNumRedirects() => int.Parse(Context.GetHttpContext()!.Request.Query["numRedirects"]!);

    public void ThrowException(string message) => throw new InvalidOperationException(message);

    public Task InvokeWithString(string message) =>
        Clients.Client(Context.ConnectionId).SendAsync("Message", message);

    public Task SendCustomObject(CustomObject customObject) =>
        Clients.Client(Context.ConnectionId).SendAsync("CustomObject", customObject);

    public ChannelReader<string> Stream()
    {
        var channel = Channel.CreateUnbounded<string>();
        channel.Writer.TryWrite("a");
        channel.Writer.TryWrite("b");
        channel.Writer.TryWrite("c");
        channel.Writer.Complete();
        return channel.Reader;
    }

    public ChannelReader<string> InfiniteStream(CancellationToken token)
    {
        var channel = Channel.CreateUnbounded<string>();
        var connectionId = Context.ConnectionId;
        var context = _context;
        token.Register(() => _ = context.Clients.Client(connectionId).SendAsync("StreamCanceled"));
        return channel.Reader;
    }

    public async Task<string> StreamingConcat(ChannelReader<string> stream)
    {
        var sb = new StringBuilder();
        while (await stream.WaitToReadAsync())
        {
            while (stream.TryRead(out var item))
            {
                sb.Append(item);
            }
        }
        return sb.ToString();
    }

    public ChannelReader<int> EmptyStream()
    {
        var channel = Channel.CreateUnbounded<int>();
        channel.Writer.Complete();
        return channel.Reader;
    }

    public ChannelReader<string> StreamThrowException(string message) => throw new InvalidOperationException(message);

    public string GetActiveTransportName() =>
        Context.Features.Get<IHttpTransportFeature>()!.TransportType.ToString();

    public ComplexObject EchoComplexObject(ComplexObject complexObject) => complexObject;

    public ComplexObject SendComplexObject() => new()
    {
        ByteArray = new byte[] { 0x1, 0x2, 0x3 },
        DateTime = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc),
        Guid = new Guid("00010203-0405-0607-0706-050403020100"),
        IntArray = new[] { 1, 2, 3 },
        String = "hello world",
    };

    public string? GetContentTypeHeader() => Context.GetHttpContext()!.Request.Headers.ContentType;

    public string? GetHeader(string headerName) => Context.GetHttpContext()!.Request.Headers[headerName];

    public string? GetCookie(string cookieName) =>
        Context.GetHttpContext()!.Request.Cookies.TryGetValue(cookieName, out var value) ? value : null;
}

/// <summary>A hub that can never be created: nothing provides its constructor's argument.</summary>
public class UncreatableHub : Hub
{
    public UncreatableHub(object unresolvable)
    {
    }
}

[Authorize(PolicyName)]
public class HubWithAuthorization : Hub
{
    public const string PolicyName = "JwtNameIdentifier";

    public string Echo(string message) => message;

    public string? GetUserNameIdentifier() =>
        Context.User?.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value;

    public string GetUserClaim(string type) => Context.User?.FindFirst(type)?.Value ?? "";
}

/// <summary>/echo: every chunk received is written back unchanged, in one piece.</summary>
public class EchoConnectionHandler : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            try
            {
                if (!buffer.IsEmpty)
                {
                    await output.WriteAsync(buffer.ToArray());
                }
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
            finally
            {
                input.AdvanceTo(buffer.End);
            }
        }
    }
}
