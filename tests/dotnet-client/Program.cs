// The official .NET SignalR client (Microsoft.AspNetCore.SignalR.Client)
// driving hubs-glib's interop server: FeatureHub (Part B of the shared
// interop-server spec) and TestHub (Part A) over every transport and both
// protocols, plus stateful and automatic reconnect through a proxy that
// cuts connections. Prints TAP (tests/dotnet-client/README.md).

using System.Net.Http;
using System.Threading.Channels;
using DotnetClient;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

var command = Environment.GetEnvironmentVariable("HUBS_INTEROP_SERVER");
if (string.IsNullOrWhiteSpace(command))
{
  Console.WriteLine("1..0 # SKIP HUBS_INTEROP_SERVER is not set");
  return 0;
}

var tap = new Tap();
await using var server = await InteropServer.StartAsync(command);
var t = new Tests(server.Url);

(HttpTransportType transport, string protocol)[] combinations =
[
  (HttpTransportType.WebSockets, "json"),
  (HttpTransportType.ServerSentEvents, "json"),
  (HttpTransportType.LongPolling, "json"),
  (HttpTransportType.WebSockets, "messagepack"),
  (HttpTransportType.LongPolling, "messagepack"),
];

foreach (var (transport, protocol) in combinations)
{
  var c = new Config(transport, protocol);
  await tap.Run($"{c}: FeatureHub invocations with values", () => t.Invocations(c));
  await tap.Run($"{c}: Welcome, Joined and Left", () => t.Presence(c));
  await tap.Run($"{c}: send and the Message fan-out", () => t.Messaging(c));
  await tap.Run($"{c}: groups", () => t.Groups(c));
  await tap.Run($"{c}: users from the access token", () => t.Users(c));
  await tap.Run($"{c}: per-connection items and the query", () => t.Items(c));
  await tap.Run($"{c}: server streams (IAsyncEnumerable, ChannelReader, cancel)", () => t.ServerStreams(c));
  await tap.Run($"{c}: client-to-server streams (ChannelReader, IAsyncEnumerable)", () => t.Uploads(c));
  await tap.Run($"{c}: client results", () => t.ClientResults(c));
  await tap.Run($"{c}: errors, detailed and not", () => t.Errors(c));
  await tap.Run($"{c}: POST /featurehub-notify", () => t.Notify(c));
  await tap.Run($"{c}: TestHub calls", () => t.TestHubCalls(c));
  await tap.Run($"{c}: TestHub streams and their errors", () => t.TestHubStreams(c));
  await tap.Run($"{c}: TestHub complex objects", () => t.ComplexObjects(c));
  await tap.Run($"{c}: many messages and calls in flight keep their order", () => t.Bursts(c));
  await tap.Run($"{c}: messages near and over the 32 KB limit", () => t.MessageSizes(c));
  await tap.Run($"{c}: Abort() closes the caller's connection", () => t.Abort(c));
  await tap.Run($"{c}: headers, redirects and the JWT-authorized hub", () => t.HttpFeatures(c));
  await tap.Run($"{c}: automatic reconnect after a cut", () => t.AutomaticReconnect(c), TimeSpan.FromSeconds(60));
}
foreach (var protocol in new[] { "json", "messagepack" })
{
  var c = new Config(HttpTransportType.WebSockets, protocol);
  await tap.Run($"{c}: stateful reconnect across cuts", () => t.StatefulReconnect(c), TimeSpan.FromSeconds(60));
}
foreach (var protocol in new[] { "json", "messagepack" })
{
  var c = new Config(HttpTransportType.WebSockets, protocol);
  await tap.Run($"{c}: skipped negotiation", () => t.SkipNegotiation(c));
}
await tap.Run("MessagePack over Server-Sent Events is refused by the client, not the server",
  () => t.MessagePackOverSse());
var stopping = await t.BeforeShutdown();
await tap.Run("the server exits 0 on SIGTERM", async () =>
{
  var status = await server.StopAsync();
  Check.Equal<int?>(0, status, $"exit status (stderr:\n{server.Stderr})");
});
await tap.Run("connected clients see the server's shutdown as a lost connection", () => stopping());

tap.Plan();
return tap.Failed == 0 ? 0 : 1;

/// <summary>TestHub's ComplexObject: each member keeps its wire type (bin, timestamp) in MessagePack.</summary>
public sealed class ComplexObject
{
  public string? String { get; set; }
  public int[]? IntArray { get; set; }
  public byte[]? ByteArray { get; set; }
  public Guid Guid { get; set; }
  public DateTime DateTime { get; set; }
}

static class BuilderExtensions
{
  public static IHubConnectionBuilder Also(this IHubConnectionBuilder builder, Action<IHubConnectionBuilder> action)
  {
    action(builder);
    return builder;
  }
}

/// <summary>A transport and a hub protocol.</summary>
record Config(HttpTransportType Transport, string Protocol)
{
  public override string ToString() => $"{Transport}/{Protocol}";
}

sealed class Tests(string baseUrl)
{
  static readonly HttpClient Http = new();

  /// <summary>A connection to <paramref name="path"/> on the server (or on <paramref name="via"/>), not started.</summary>
  HubConnection Build(Config c, string path, string? token = null, string? via = null,
                      Action<IHubConnectionBuilder>? configure = null,
                      Dictionary<string, string>? headers = null)
  {
    var builder = new HubConnectionBuilder()
      .WithUrl((via ?? baseUrl) + path, c.Transport, options =>
      {
        if (token is not null)
          options.AccessTokenProvider = () => Task.FromResult<string?>(token);
        foreach (var (name, value) in headers ?? [])
          options.Headers[name] = value;
      });
    if (c.Protocol == "messagepack")
      builder.AddMessagePackProtocol();
    else
      // The interop server's payloads are PascalCase (the TestHub application's).
      builder.AddJsonProtocol(options => options.PayloadSerializerOptions.PropertyNamingPolicy = null);
    configure?.Invoke(builder);
    return builder.Build();
  }

  /// <summary>A started FeatureHub connection with its Welcome, Message and Left inboxes.</summary>
  sealed class Member : IAsyncDisposable
  {
    public required HubConnection Connection { get; init; }
    public required string Id { get; init; }
    public required Inbox<(string from, string text)> Messages { get; init; }
    public required Inbox<(string id, string? error)> Left { get; init; }
    public required Inbox<string> Joined { get; init; }

    public Task<T> Invoke<T>(string method, params object?[] args) =>
      Connection.InvokeCoreAsync<T>(method, args);
    public Task Invoke(string method, params object?[] args) =>
      Connection.InvokeCoreAsync(method, args);

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
  }

  async Task<Member> Join(Config c, string? token = null, string path = "/featurehub",
                          Action<IHubConnectionBuilder>? configure = null, string? via = null)
  {
    var connection = Build(c, path, token, via, configure);
    var welcome = new Inbox<string>();
    var messages = new Inbox<(string, string)>();
    var left = new Inbox<(string, string?)>();
    var joined = new Inbox<string>();
    connection.On<string>("Welcome", welcome.Add);
    connection.On<string, string>("Message", (from, text) => messages.Add((from, text)));
    connection.On<string, string?>("Left", (id, error) => left.Add((id, error)));
    connection.On<string>("Joined", joined.Add);
    await connection.StartAsync();
    var id = await welcome.Next();
    Check.Equal(connection.ConnectionId, id, "Welcome's connection id");
    return new Member { Connection = connection, Id = id, Messages = messages, Left = left, Joined = joined };
  }

  public async Task Invocations(Config c)
  {
    await using var m = await Join(c);
    Check.Equal(5, await m.Invoke<int>("Add", 2, 3), "Add(2, 3)");
    Check.Equal(-7, await m.Invoke<int>("Add", -10, 3), "Add(-10, 3)");
    Check.Equal(10, await m.Invoke<int>("Sum", new[] { 1, 2, 3, 4 }), "Sum([1, 2, 3, 4])");
    Check.Equal(0, await m.Invoke<int>("Sum", Array.Empty<int>()), "Sum([])");
    Check.Equal("text é ✓", await m.Invoke<string>("EchoAny", "text é ✓"), "EchoAny(string)");
    Check.Equal(42L, await m.Invoke<long>("EchoAny", 42L), "EchoAny(42)");
    Check.Equal(true, await m.Invoke<bool>("EchoAny", true), "EchoAny(true)");
    Check.Equal(1.5, await m.Invoke<double>("EchoAny", 1.5), "EchoAny(1.5)");
    Check.Equal<string?>(null, await m.Invoke<string?>("EchoAny", [null]), "EchoAny(null)");
    var nested = new Dictionary<string, int[]> { ["a"] = [1, 2], ["b"] = [] };
    var echoed = await m.Invoke<Dictionary<string, int[]>>("EchoAny", nested);
    Check.Sequence(["a", "b"], echoed.Keys.Order(), "EchoAny(map) keys");
    Check.Sequence([1, 2], echoed["a"], "EchoAny(map)[a]");
    Check.Equal(0, echoed["b"].Length, "EchoAny(map)[b] length");
    Check.Equal("renamed", await m.Invoke<string>("Custom.Name"), "Custom.Name()");
    // A slow invocation does not hold up another connection's.
    await using var other = await Join(c);
    var slow = m.Invoke<string>("DelayedEcho", "slow", 1500);
    Check.Equal("fast", await other.Invoke<string>("DelayedEcho", "fast", 0), "DelayedEcho fast");
    Check.True(!slow.IsCompleted, "DelayedEcho(1500) on one connection finished before DelayedEcho(0) on another");
    Check.Equal("slow", await slow, "DelayedEcho slow");
  }

  public async Task Presence(Config c)
  {
    await using var a = await Join(c);
    var b = await Join(c);
    Check.Equal(b.Id, await a.Joined.Next(), "Joined(id) seen by the first");
    Check.True(a.Id != b.Id, "two connections have two ids");
    await b.Connection.StopAsync();
    var (id, error) = await a.Left.Next();
    Check.Equal(b.Id, id, "Left's id");
    Check.Equal<string?>(null, error, "Left's error after a clean stop");
    await b.DisposeAsync();
  }

  public async Task Messaging(Config c)
  {
    await using var a = await Join(c);
    await using var b = await Join(c);
    await a.Connection.SendAsync("Broadcast", "to all");
    Check.Equal((a.Id, "to all"), await a.Messages.Next(), "Broadcast at the sender");
    Check.Equal((a.Id, "to all"), await b.Messages.Next(), "Broadcast at the other");
    await a.Connection.SendAsync("SendToOthers", "to others");
    await a.Connection.SendAsync("SendToCaller", "to caller");
    Check.Equal((a.Id, "to caller"), await a.Messages.Next(), "SendToCaller (and not SendToOthers) at the sender");
    Check.Equal((a.Id, "to others"), await b.Messages.Next(), "SendToOthers at the other");
    await b.Invoke("SendToConnection", a.Id, "direct");
    Check.Equal((b.Id, "direct"), await a.Messages.Next(), "SendToConnection");
    await b.Invoke("SendToConnections", new[] { a.Id, b.Id }, "both");
    Check.Equal((b.Id, "both"), await a.Messages.Next(), "SendToConnections at a");
    Check.Equal((b.Id, "both"), await b.Messages.Next(), "SendToConnections at b");
    await b.Invoke("SendToAllExcept", new[] { b.Id }, "not b");
    await b.Invoke("SendToCaller", "marker");
    Check.Equal((b.Id, "not b"), await a.Messages.Next(), "SendToAllExcept at a");
    Check.Equal((b.Id, "marker"), await b.Messages.Next(), "SendToAllExcept skipped b");
  }

  public async Task Groups(Config c)
  {
    var g = "group-" + Guid.NewGuid().ToString("N");
    var h = "group-" + Guid.NewGuid().ToString("N");
    await using var a = await Join(c);
    await using var b = await Join(c);
    await a.Invoke("JoinGroup", g);
    await b.Invoke("JoinGroup", g);
    await a.Invoke("JoinGroup", h);
    await b.Invoke("SendToGroup", g, "to g");
    Check.Equal((b.Id, "to g"), await a.Messages.Next(), "SendToGroup at a");
    Check.Equal((b.Id, "to g"), await b.Messages.Next(), "SendToGroup at b");
    await b.Invoke("SendToGroups", new[] { g, h }, "to g and h");
    Check.Equal((b.Id, "to g and h"), await a.Messages.Next(), "SendToGroups at a, once");
    Check.Equal((b.Id, "to g and h"), await a.Messages.Next(), "SendToGroups at a, twice");
    Check.Equal((b.Id, "to g and h"), await b.Messages.Next(), "SendToGroups at b");
    await b.Invoke("SendToOthersInGroup", g, "others in g");
    Check.Equal((b.Id, "others in g"), await a.Messages.Next(), "SendToOthersInGroup at a");
    await a.Invoke("SendToGroupExcept", g, new[] { b.Id }, "g but b");
    Check.Equal((a.Id, "g but b"), await a.Messages.Next(), "SendToGroupExcept at a");
    await a.Invoke("LeaveGroup", g);
    await b.Invoke("SendToGroup", g, "after a left");
    Check.Equal((b.Id, "after a left"), await b.Messages.Next(), "SendToGroup after the leave at b");
    await b.Invoke("SendToConnection", a.Id, "marker");
    Check.Equal((b.Id, "marker"), await a.Messages.Next(), "a, having left, got nothing before the marker");
    Check.True(b.Messages.Empty, "b got what it should not");
  }

  public async Task Users(Config c)
  {
    var alice = "alice-" + Guid.NewGuid().ToString("N")[..8];
    var bob = "bob-" + Guid.NewGuid().ToString("N")[..8];
    await using var a1 = await Join(c, alice);
    await using var a2 = await Join(c, alice);
    await using var b = await Join(c, bob);
    await using var anonymous = await Join(c);
    Check.Equal<string?>(alice, await a1.Invoke<string?>("GetUserIdentifier"), "alice's user identifier");
    Check.Equal<string?>(bob, await b.Invoke<string?>("GetUserIdentifier"), "bob's user identifier");
    Check.Equal<string?>(null, await anonymous.Invoke<string?>("GetUserIdentifier"), "an anonymous user identifier");
    await anonymous.Invoke("SendToUser", alice, "to alice");
    Check.Equal((anonymous.Id, "to alice"), await a1.Messages.Next(), "SendToUser at alice's first");
    Check.Equal((anonymous.Id, "to alice"), await a2.Messages.Next(), "SendToUser at alice's second");
    await anonymous.Invoke("SendToUsers", new[] { alice, bob }, "to both");
    Check.Equal((anonymous.Id, "to both"), await a1.Messages.Next(), "SendToUsers at alice");
    Check.Equal((anonymous.Id, "to both"), await b.Messages.Next(), "SendToUsers at bob");
    Check.True(anonymous.Messages.Empty, "the sender got a message meant for users");
  }

  public async Task Items(Config c)
  {
    await using var a = await Join(c, path: "/featurehub?flavour=lemon&empty=");
    await using var b = await Join(c);
    await a.Invoke("SetItem", "k", 42);
    await a.Invoke("SetItem", "list", new[] { "x", "y" });
    Check.Equal(42, await a.Invoke<int>("GetItem", "k"), "GetItem(k) on the same connection");
    Check.Sequence(["x", "y"], await a.Invoke<string[]>("GetItem", "list"), "GetItem(list)");
    Check.Equal<string?>(null, await b.Invoke<string?>("GetItem", "k"), "GetItem(k) on another connection");
    Check.Equal<string?>(null, await a.Invoke<string?>("GetItem", "unknown"), "GetItem(unknown)");
    Check.Equal<string?>("lemon", await a.Invoke<string?>("GetQuery", "flavour"), "GetQuery(flavour)");
    Check.Equal<string?>("", await a.Invoke<string?>("GetQuery", "empty"), "GetQuery(empty)");
    Check.Equal<string?>(null, await a.Invoke<string?>("GetQuery", "missing"), "GetQuery(missing)");
  }

  public async Task ServerStreams(Config c)
  {
    await using var m = await Join(c);
    var items = new List<int>();
    await foreach (var item in m.Connection.StreamAsync<int>("Counter", 5, 10))
      items.Add(item);
    Check.Sequence([0, 1, 2, 3, 4], items, "Counter(5) through IAsyncEnumerable");

    var channel = await m.Connection.StreamAsChannelAsync<int>("Counter", 3, 5);
    items.Clear();
    while (await channel.WaitToReadAsync())
      while (channel.TryRead(out var item))
        items.Add(item);
    Check.Sequence([0, 1, 2], items, "Counter(3) through a ChannelReader");

    // Cancelled after two items of a long stream: it ends, and the
    // connection goes on.
    using var cancel = new CancellationTokenSource();
    items.Clear();
    try
    {
      await foreach (var item in m.Connection.StreamAsync<int>("Counter", 100000, 20, cancel.Token))
      {
        items.Add(item);
        if (items.Count == 2)
          cancel.Cancel();
      }
    }
    catch (OperationCanceledException)
    {
    }
    Check.Sequence([0, 1], items.Take(2), "Counter before the cancel");
    // What was already on its way may still come; then it stops.
    Check.True(items.Count < 50, $"{items.Count} items after the cancel");
    Check.Equal(3, await m.Invoke<int>("Add", 1, 2), "Add after a cancelled stream");

    // Two streams at once on one connection, their items interleaved.
    static async Task<List<int>> Collect(IAsyncEnumerable<int> stream)
    {
      var list = new List<int>();
      await foreach (var item in stream)
        list.Add(item);
      return list;
    }
    var first = Collect(m.Connection.StreamAsync<int>("Counter", 6, 15));
    var second = Collect(m.Connection.StreamAsync<int>("Counter", 4, 20));
    Check.Sequence(Enumerable.Range(0, 6), await first, "the first of two streams at once");
    Check.Sequence(Enumerable.Range(0, 4), await second, "the second of two streams at once");
  }

  public async Task Uploads(Config c)
  {
    await using var m = await Join(c);
    var channel = Channel.CreateUnbounded<int>();
    var total = m.Invoke<int>("Upload", channel.Reader);
    foreach (var n in new[] { 1, 2, 3, 4 })
    {
      await channel.Writer.WriteAsync(n);
      await Task.Delay(5);
    }
    channel.Writer.Complete();
    Check.Equal(10, await total, "Upload(ChannelReader of 1..4)");

    static async IAsyncEnumerable<int> Numbers()
    {
      for (var n = 1; n <= 100; n++)
      {
        yield return n;
        if (n % 25 == 0)
          await Task.Yield();
      }
    }
    Check.Equal(5050, await m.Invoke<int>("Upload", Numbers()), "Upload(IAsyncEnumerable of 1..100)");

    var empty = Channel.CreateUnbounded<int>();
    empty.Writer.Complete();
    Check.Equal(0, await m.Invoke<int>("Upload", empty.Reader), "Upload of nothing");

    // Two uploads at once on one connection, their items interleaved.
    var a = Channel.CreateUnbounded<int>();
    var b = Channel.CreateUnbounded<int>();
    var totalA = m.Invoke<int>("Upload", a.Reader);
    var totalB = m.Invoke<int>("Upload", b.Reader);
    for (var n = 1; n <= 3; n++)
    {
      await a.Writer.WriteAsync(n);
      await b.Writer.WriteAsync(n * 10);
    }
    a.Writer.Complete();
    b.Writer.Complete();
    Check.Equal(6, await totalA, "the first of two uploads at once");
    Check.Equal(60, await totalB, "the second of two uploads at once");

    await using var testHub = Build(c, "/testhub");
    await testHub.StartAsync();
    static async IAsyncEnumerable<string> Words()
    {
      foreach (var word in new[] { "a", "bc", "", "déf" })
      {
        await Task.Yield();
        yield return word;
      }
    }
    Check.Equal("abcdéf", await testHub.InvokeAsync<string>("StreamingConcat", Words()), "StreamingConcat");
  }

  public async Task ClientResults(Config c)
  {
    await using var m = await Join(c);
    using (m.Connection.On<int, int>("Double", x => x * 2))
      Check.Equal(42, await m.Invoke<int>("AskCaller", 21), "AskCaller(21) from a synchronous handler");
    using (m.Connection.On<int, int>("Double", async x =>
           {
             await Task.Delay(50);
             return x * 2;
           }))
      Check.Equal(-8, await m.Invoke<int>("AskCaller", -4), "AskCaller(-4) from an asynchronous handler");
    using (m.Connection.On<int, int>("Double", (Func<int, int>)(x => throw new InvalidOperationException("no doubling today"))))
    {
      var e = await Check.Throws(() => m.Invoke<int>("AskCaller", 1), "AskCaller with a throwing handler");
      Check.Equal("An unexpected error occurred invoking 'AskCaller' on the server. HubException: no doubling today",
        e.Message, "the client's error as the hub error");
    }
    // Without a handler the .NET client cannot bind the argument and says
    // so (ASP.NET Core's server passes on the same text); the JavaScript
    // client's "Client didn't provide a result." is not what it sends.
    var removed = await Check.Throws(() => m.Invoke<int>("AskCaller", 1), "AskCaller after the handler's removal");
    Check.Equal("An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client failed to parse argument(s).",
      removed.Message, "a removed handler");
    await using var never = await Join(c);
    var missing = await Check.Throws(() => never.Invoke<int>("AskCaller", 1), "AskCaller without a handler");
    Check.Equal(removed.Message, missing.Message, "no handler ever");

    // The server asks from outside the hub: GET /clientresult/{id} on TestHub.
    await using var testHub = Build(c, "/testhub");
    testHub.On("Result", () => 7);
    await testHub.StartAsync();
    Check.Equal("7", await Http.GetStringAsync($"{baseUrl}/clientresult/{testHub.ConnectionId}"), "/clientresult");
  }

  public async Task Errors(Config c)
  {
    await using var m = await Join(c);
    var e = await Check.Throws(() => m.Invoke("ThrowHubError", "a hub error"), "ThrowHubError");
    Check.True(e is HubException, $"ThrowHubError gave {e.GetType()}");
    Check.Equal("An unexpected error occurred invoking 'ThrowHubError' on the server. HubException: a hub error",
      e.Message, "ThrowHubError's message");
    e = await Check.Throws(() => m.Invoke("ThrowOther", "hidden detail"), "ThrowOther");
    Check.Equal("An unexpected error occurred invoking 'ThrowOther' on the server.", e.Message,
      "ThrowOther's message (detailed errors off)");
    e = await Check.Throws(() => m.Invoke("NoSuchMethod"), "NoSuchMethod");
    Check.Equal("Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist.",
      e.Message, "an unknown method");
    Check.Equal(3, await m.Invoke<int>("Add", 1, 2), "Add after the errors");

    // TestHub has detailed errors on.
    await using var testHub = Build(c, "/testhub");
    await testHub.StartAsync();
    e = await Check.Throws(() => testHub.InvokeAsync("ThrowException", "some detail"), "ThrowException");
    Check.Equal("An unexpected error occurred invoking 'ThrowException' on the server. InvalidOperationException: some detail",
      e.Message, "ThrowException's message (detailed errors on)");
    e = await Check.Throws(() => testHub.InvokeAsync<string>("Stream"), "Stream invoked");
    Check.Equal("The client attempted to invoke the streaming 'Stream' method with a non-streaming invocation.",
      e.Message, "a streaming method invoked");
    e = await Check.Throws(async () =>
    {
      await foreach (var _ in testHub.StreamAsync<string>("Echo", "x")) { }
    }, "Echo streamed");
    Check.Equal("The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.",
      e.Message, "a non-streaming method streamed");
    Check.Equal("still here", await testHub.InvokeAsync<string>("Echo", "still here"), "Echo after the errors");
  }

  public async Task Notify(Config c)
  {
    await using var m = await Join(c);
    var notes = new Inbox<string>();
    m.Connection.On<string>("Notify", notes.Add);
    var text = "note " + Guid.NewGuid().ToString("N")[..6];
    using var answer = await Http.PostAsync($"{baseUrl}/featurehub-notify?text={Uri.EscapeDataString(text)}", null);
    Check.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode, "POST /featurehub-notify");
    Check.Equal("ok", await answer.Content.ReadAsStringAsync(), "its body");
    Check.Equal(text, await notes.Next(), "Notify(text)");
  }

  public async Task TestHubCalls(Config c)
  {
    await using var connection = Build(c, "/testHub");
    var messages = new Inbox<string>();
    connection.On<string>("Message", messages.Add);
    await connection.StartAsync();
    Check.Equal("hello", await connection.InvokeAsync<string>("Echo", "hello"), "Echo");
    Check.Equal("hi", await connection.InvokeAsync<string>("echo", "hi"), "echo (case-insensitive)");
    Check.Equal(connection.ConnectionId, await connection.InvokeAsync<string>("GetCallerConnectionId"), "GetCallerConnectionId");
    var expected = c.Transport switch
    {
      HttpTransportType.WebSockets => "WebSockets",
      HttpTransportType.ServerSentEvents => "ServerSentEvents",
      _ => "LongPolling",
    };
    Check.Equal(expected, await connection.InvokeAsync<string>("GetActiveTransportName"), "GetActiveTransportName");
    await connection.InvokeAsync("InvokeWithString", "a message");
    Check.Equal("a message", await messages.Next(), "InvokeWithString's Message");
    var agent = await connection.InvokeAsync<string?>("GetHeader", "User-Agent");
    Check.True(agent is not null && agent.StartsWith("Microsoft SignalR/", StringComparison.Ordinal),
      $"GetHeader(User-Agent) is {agent}");
    Check.Equal<string?>(null, await connection.InvokeAsync<string?>("GetHeader", "X-Not-Sent"), "GetHeader(X-Not-Sent)");
    Check.Equal<string?>("testValue", await connection.InvokeAsync<string?>("GetCookie", "testCookie"), "GetCookie(testCookie)");
    Check.Equal<string?>(null, await connection.InvokeAsync<string?>("GetCookie", "expiredCookie"), "GetCookie(expiredCookie)");
  }

  public async Task TestHubStreams(Config c)
  {
    await using var connection = Build(c, "/testhub");
    var canceled = new Inbox<bool>();
    connection.On("StreamCanceled", () => canceled.Add(true));
    await connection.StartAsync();
    var items = new List<string>();
    await foreach (var item in connection.StreamAsync<string>("Stream"))
      items.Add(item);
    Check.Sequence(["a", "b", "c"], items, "Stream()");
    var none = new List<int>();
    await foreach (var item in connection.StreamAsync<int>("EmptyStream"))
      none.Add(item);
    Check.Equal(0, none.Count, "EmptyStream() items");
    var e = await Check.Throws(async () =>
    {
      await foreach (var _ in connection.StreamAsync<string>("StreamThrowException", "stream detail")) { }
    }, "StreamThrowException");
    Check.Equal("An unexpected error occurred invoking 'StreamThrowException' on the server. InvalidOperationException: stream detail",
      e.Message, "StreamThrowException's message");

    using var cancel = new CancellationTokenSource();
    var channel = await connection.StreamAsChannelAsync<string>("InfiniteStream", cancel.Token);
    await Task.Delay(100);
    cancel.Cancel();
    Check.True(await canceled.Next(), "StreamCanceled after the client cancelled");
    Check.Equal("after", await connection.InvokeAsync<string>("Echo", "after"), "Echo after the cancelled stream");
  }

  public async Task ComplexObjects(Config c)
  {
    await using var connection = Build(c, "/testhub");
    await connection.StartAsync();
    var sent = await connection.InvokeAsync<ComplexObject>("SendComplexObject");
    Check.Equal("hello world", sent.String, "String");
    Check.Sequence([1, 2, 3], sent.IntArray!, "IntArray");
    Check.Sequence(new byte[] { 1, 2, 3 }, sent.ByteArray!, "ByteArray");
    Check.Equal(new Guid("00010203-0405-0607-0706-050403020100"), sent.Guid, "Guid");
    Check.Equal(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), sent.DateTime.ToUniversalTime(), "DateTime");

    var mine = new ComplexObject
    {
      String = "from .NET",
      IntArray = [7, -1, int.MaxValue],
      ByteArray = [0, 255, 128, 10],
      Guid = Guid.NewGuid(),
      DateTime = new DateTime(2024, 2, 29, 23, 59, 58, DateTimeKind.Utc),
    };
    var echoed = await connection.InvokeAsync<ComplexObject>("EchoComplexObject", mine);
    Check.Equal(mine.String, echoed.String, "echoed String");
    Check.Sequence(mine.IntArray, echoed.IntArray!, "echoed IntArray");
    Check.Sequence(mine.ByteArray, echoed.ByteArray!, "echoed ByteArray");
    Check.Equal(mine.Guid, echoed.Guid, "echoed Guid");
    Check.Equal(mine.DateTime, echoed.DateTime.ToUniversalTime(), "echoed DateTime");
  }

  public async Task AutomaticReconnect(Config c)
  {
    await using var proxy = new CuttingProxy(baseUrl);
    var reconnecting = new Inbox<Exception?>();
    var reconnected = new Inbox<string?>();
    var closed = new Inbox<Exception?>();
    await using var m = await Join(c, via: proxy.Url, configure: builder =>
      builder.WithAutomaticReconnect([TimeSpan.Zero, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)]));
    m.Connection.Reconnecting += e => { reconnecting.Add(e); return Task.CompletedTask; };
    m.Connection.Reconnected += id => { reconnected.Add(id); return Task.CompletedTask; };
    m.Connection.Closed += e => { closed.Add(e); return Task.CompletedTask; };
    await using var observer = await Join(c);
    Check.Equal(4, await m.Invoke<int>("Add", 2, 2), "Add before the cut");

    // A cut alone is no failure to Long Polling: .NET's HttpClient sends
    // the interrupted poll again on a new connection. So the proxy refuses
    // connections for a while too, and the first attempts fail.
    Check.True(proxy.Cut(TimeSpan.FromMilliseconds(500)) > 0, "nothing to cut");
    await reconnecting.Next();
    Check.Equal(HubConnectionState.Reconnecting == m.Connection.State || HubConnectionState.Connected == m.Connection.State,
      true, $"state {m.Connection.State} while reconnecting");
    var newId = await reconnected.Next(20);
    Check.True(newId is not null && newId != m.Id, $"reconnected with id {newId}, was {m.Id}");
    Check.Equal(newId, m.Connection.ConnectionId, "ConnectionId after the reconnect");
    Check.Equal(6, await m.Invoke<int>("Add", 3, 3), "Add after the reconnect");
    var (leftId, _) = await observer.Left.Next(40);
    Check.Equal(m.Id, leftId, "the old connection left");
    await observer.Invoke("SendToConnection", newId, "found you");
    Check.Equal((observer.Id, "found you"), await m.Messages.Next(), "a message to the new id");
    Check.True(closed.Empty, "Closed during an automatic reconnect");
    await m.Connection.StopAsync();
    Check.Equal<Exception?>(null, await closed.Next(), "Closed's error after stop");
  }

  public async Task StatefulReconnect(Config c)
  {
    // Not in the contract's Part A or B: ASP.NET Core's reference app has no such path.
    using (var probe = await Http.PostAsync($"{baseUrl}/featurehub-statefulreconnect/negotiate?negotiateVersion=1", null))
      if (probe.StatusCode == System.Net.HttpStatusCode.NotFound)
        throw new SkipTest("the server has no /featurehub-statefulreconnect");
    await using var proxy = new CuttingProxy(baseUrl);
    var reconnecting = new Inbox<Exception?>();
    var closed = new Inbox<Exception?>();
    await using var m = await Join(c, path: "/featurehub-statefulreconnect", via: proxy.Url,
      configure: builder => builder.WithStatefulReconnect());
    m.Connection.Reconnecting += e => { reconnecting.Add(e); return Task.CompletedTask; };
    m.Connection.Closed += e => { closed.Add(e); return Task.CompletedTask; };
    await using var other = await Join(c, path: "/featurehub-statefulreconnect");
    await m.Invoke("JoinGroup", "stateful");

    for (var round = 1; round <= 3; round++)
    {
      var before = proxy.Accepted;
      Check.True(proxy.Cut() > 0, "nothing to cut");
      // Both ways while the socket is gone: the client's invocations and
      // the server's messages wait in the buffers and arrive once.
      var sum = m.Invoke<int>("Add", round, 100);
      await other.Invoke("SendToGroup", "stateful", $"during cut {round}");
      await other.Invoke("SendToConnection", m.Id, $"direct {round}");
      Check.Equal(round + 100, await sum, $"Add across cut {round}");
      Check.Equal((other.Id, $"during cut {round}"), await m.Messages.Next(), $"the group message of cut {round}");
      Check.Equal((other.Id, $"direct {round}"), await m.Messages.Next(), $"the direct message of cut {round}");
      Check.True(proxy.Accepted > before, "the client did not come back through the proxy");
    }
    Check.Equal(m.Id, m.Connection.ConnectionId, "ConnectionId after the cuts");
    await other.Invoke("SendToConnection", m.Id, "last");
    Check.Equal((other.Id, "last"), await m.Messages.Next(), "the last message, with no duplicate before it");
    Check.True(reconnecting.Empty, "Reconnecting was raised: the stateful reconnect did not hold");
    Check.True(closed.Empty, "Closed was raised");
    Check.True(other.Left.Empty, "the server saw the connection leave");
  }

  public async Task Bursts(Config c)
  {
    await using var m = await Join(c);
    const int n = 300;
    for (var i = 0; i < n; i++)
      await m.Connection.SendAsync("SendToCaller", $"m{i}");
    var sums = Enumerable.Range(0, n).Select(i => m.Invoke<int>("Add", i, 1000)).ToList();
    for (var i = 0; i < n; i++)
      Check.Equal((m.Id, $"m{i}"), await m.Messages.Next(), $"message {i} in order");
    var results = await Task.WhenAll(sums);
    Check.Sequence(Enumerable.Range(1000, n), results, "the results of the calls in flight");
  }

  public async Task MessageSizes(Config c)
  {
    await using var m = await Join(c);
    var closed = new Inbox<Exception?>();
    m.Connection.Closed += e => { closed.Add(e); return Task.CompletedTask; };
    await using var observer = await Join(c);
    // ASCII: System.Text.Json writes anything else as \uXXXX, six bytes.
    var near = string.Concat(Enumerable.Repeat("0123456789abcdef", 2000))[..31_000];
    Check.Equal(near, await m.Invoke<string>("EchoAny", near), "EchoAny of 31000 characters");
    // What the server sends is not limited by what it accepts.
    var huge = string.Concat(Enumerable.Repeat(near, 3));
    await m.Invoke("SetItem", "part", near);
    Check.Equal(near, await m.Invoke<string>("GetItem", "part"), "GetItem of 31000 characters");

    // Over the limit the server closes the connection with an error, which
    // reaches the client's Closed and the others' Left.
    var over = m.Invoke<string>("EchoAny", huge);
    var e = await Check.Throws(() => over, "EchoAny of 93000 characters");
    var why = await closed.Next();
    Check.True(why is not null, "Closed without an error after an oversized message");
    Check.Equal("The server closed the connection with the following error: Connection closed with an error.",
      why!.Message, "Closed's error");
    var (id, error) = await observer.Left.Next();
    Check.Equal(m.Id, id, "Left's id");
    Check.Equal<string?>("The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions.",
      error, "Left's error");
  }

  public async Task Abort(Config c)
  {
    await using var m = await Join(c);
    var closed = new Inbox<Exception?>();
    m.Connection.Closed += e => { closed.Add(e); return Task.CompletedTask; };
    await using var observer = await Join(c);
    var pending = m.Invoke("Abort");
    var why = await closed.Next();
    Check.Equal<string?>(null, why?.Message, "Closed's error after Abort()");
    // The .NET client cancels what was pending (the JavaScript client
    // rejects it with "Invocation canceled due to the underlying
    // connection being closed.").
    var e = await Check.Throws(() => pending, "the Abort invocation");
    Check.True(e is OperationCanceledException, $"the Abort invocation failed with {e.GetType().Name}: {e.Message}");
    var (id, error) = await observer.Left.Next();
    Check.Equal((m.Id, (string?)null), (id, error), "Left after Abort()");
    Check.Equal(2, await observer.Invoke<int>("Add", 1, 1), "the others are still served");
  }

  public async Task HttpFeatures(Config c)
  {
    // Headers of the client's own reach the hub on every transport.
    await using (var withHeaders = Build(c, "/testhub", headers: new() { ["X-HEADER"] = "dotnet value" }))
    {
      await withHeaders.StartAsync();
      Check.Equal<string?>("dotnet value", await withHeaders.InvokeAsync<string?>("GetHeader", "X-HEADER"), "GetHeader(X-HEADER)");
    }

    // /redirect answers negotiate with a url: the client follows it.
    var redirected = Build(c, $"/redirect?baseUrl={Uri.EscapeDataString(baseUrl)}");
    await using (redirected)
    {
      await redirected.StartAsync();
      var redirects = await redirected.InvokeAsync<int>("GetNumRedirects");
      Check.True(redirects >= 1, $"GetNumRedirects is {redirects}");
      Check.Equal(redirected.ConnectionId, await redirected.InvokeAsync<string>("GetCallerConnectionId"),
        "the connection id after a redirect");
    }

    // The authorized hub takes a token from /generateJwtToken, and nothing else.
    var token = await Http.GetStringAsync($"{baseUrl}/generateJwtToken");
    await using (var authorized = Build(c, "/authorizedhub", token))
    {
      await authorized.StartAsync();
      Check.Equal("secret", await authorized.InvokeAsync<string>("Echo", "secret"), "Echo on /authorizedhub");
    }
    await using (var refused = Build(c, "/authorizedhub", "not-a-token"))
    {
      var e = await Check.Throws(() => refused.StartAsync(), "a start with a bad token");
      Check.True(e is HttpRequestException { StatusCode: System.Net.HttpStatusCode.Unauthorized },
        $"a bad token gave {e.GetType().Name}: {e.Message}");
    }
  }

  public async Task SkipNegotiation(Config c)
  {
    await using var connection = new HubConnectionBuilder()
      .WithUrl(baseUrl + "/testhub", options =>
      {
        options.SkipNegotiation = true;
        options.Transports = HttpTransportType.WebSockets;
      })
      .Also(builder =>
      {
        if (c.Protocol == "messagepack")
          builder.AddMessagePackProtocol();
      })
      .Build();
    await connection.StartAsync();
    Check.Equal<string?>(null, connection.ConnectionId, "ConnectionId without negotiate");
    Check.Equal("direct", await connection.InvokeAsync<string>("Echo", "direct"), "Echo without negotiate");
    Check.True(!string.IsNullOrEmpty(await connection.InvokeAsync<string>("GetCallerConnectionId")),
      "the server made a connection id all the same");
  }

  /// <summary>
  /// Connects a client per transport, with automatic reconnect, before the
  /// server stops; what it returns checks what they saw.
  /// </summary>
  public async Task<Func<Task>> BeforeShutdown()
  {
    var watched = new List<(HttpTransportType transport, HubConnection connection, Inbox<string> events)>();
    foreach (var transport in new[] { HttpTransportType.WebSockets, HttpTransportType.ServerSentEvents, HttpTransportType.LongPolling })
    {
      var events = new Inbox<string>();
      var connection = Build(new Config(transport, "json"), "/featurehub",
        configure: builder => builder.WithAutomaticReconnect([TimeSpan.FromSeconds(30)]));
      connection.Reconnecting += e => { events.Add($"Reconnecting: {e?.Message}"); return Task.CompletedTask; };
      connection.Closed += e => { events.Add($"Closed: {e?.Message}"); return Task.CompletedTask; };
      try
      {
        await connection.StartAsync();
      }
      catch (Exception)
      {
        // The check below says what is missing.
      }
      watched.Add((transport, connection, events));
    }
    return async () =>
    {
      var seen = new List<string>();
      foreach (var (transport, connection, events) in watched)
      {
        seen.Add($"{transport}: {await events.Next(20)}");
        await connection.DisposeAsync();
      }
      // ASP.NET Core ends its connections on shutdown without a Close
      // message of the hub protocol: the clients take it for a lost
      // connection and reconnect, as after any other loss.
      foreach (var line in seen)
        Console.WriteLine($"# {line}");
      Check.True(seen.All(line => line.Contains("Reconnecting")), string.Join("; ", seen));
    };
  }

  public async Task MessagePackOverSse()
  {
    await using var connection = Build(new Config(HttpTransportType.ServerSentEvents, "messagepack"), "/testhub");
    var e = await Check.Throws(() => connection.StartAsync(), "MessagePack over SSE");
    Check.True(e.Message.Contains("transport", StringComparison.OrdinalIgnoreCase), $"unexpected error: {e.Message}");
  }
}
