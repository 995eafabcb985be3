// The EchoHub of the benchmarks on ASP.NET Core SignalR: the peer of bench/echo-server.c.
// Same settings: detailed errors on, no WebSocket compression (SignalR's default),
// default limits, Kestrel on 127.0.0.1 only. A connection's user is its query
// parameter "user" (bench/loadgen's sendToUser scenario); --redis HOST:PORT
// scales the hub out on that Redis (Microsoft.AspNetCore.SignalR.StackExchangeRedis).
using Microsoft.AspNetCore.SignalR;

var port = 5000;
string? redis = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--port") port = int.Parse(args[i + 1]);
    if (args[i] == "--redis") redis = args[i + 1];
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port));
var signalr = builder.Services.AddSignalR(o => o.EnableDetailedErrors = true);
#if MESSAGEPACK
signalr.AddMessagePackProtocol();
#endif
if (redis != null)
    signalr.AddStackExchangeRedis(redis);
builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();

var app = builder.Build();
app.MapHub<EchoHub>("/echo");
app.Lifetime.ApplicationStarted.Register(() =>
{
    Console.WriteLine($"Now listening on: http://127.0.0.1:{port}");
    Console.Out.Flush();
});
app.Run();

public class EchoHub : Hub
{
    public DateTime Echo(DateTime time) => time;

    public Task EchoAll(DateTime time) => Clients.All.SendAsync("send", time);

    public Task Broadcast(int duration) => Clients.All.SendAsync("send", duration);

    public Task SendPayload(string payload) => Clients.All.SendAsync("send", payload);

    public DateTime GetCurrentTime() => DateTime.UtcNow;

    public Task JoinGroup(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task LeaveGroup(string group) => Groups.RemoveFromGroupAsync(Context.ConnectionId, group);

    public Task SendToGroup(string group, DateTime time) => Clients.Group(group).SendAsync("send", time);

    public Task SendToUser(string user, DateTime time) => Clients.User(user).SendAsync("send", time);
}

public class QueryUserIdProvider : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) =>
        connection.GetHttpContext()?.Request.Query["user"];
}
