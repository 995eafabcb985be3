// Part B of the interop contract: FeatureHub at /featurehub (detailed errors
// off), covering the hub features that TestHub does not touch.

using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.SignalR;

namespace Interop;

public class FeatureHub : Hub
{
    public override async Task OnConnectedAsync()
    {
        await Clients.Caller.SendAsync("Welcome", Context.ConnectionId);
        await Clients.Others.SendAsync("Joined", Context.ConnectionId);
    }

    public override Task OnDisconnectedAsync(Exception? exception) =>
        Clients.Others.SendAsync("Left", Context.ConnectionId, exception?.Message);

    public Task Broadcast(string text) => Clients.All.SendAsync("Message", Context.ConnectionId, text);

    public Task SendToOthers(string text) => Clients.Others.SendAsync("Message", Context.ConnectionId, text);

    public Task SendToCaller(string text) => Clients.Caller.SendAsync("Message", Context.ConnectionId, text);

    public Task SendToConnection(string connectionId, string text) =>
        Clients.Client(connectionId).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToConnections(string[] connectionIds, string text) =>
        Clients.Clients(connectionIds).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToAllExcept(string[] connectionIds, string text) =>
        Clients.AllExcept(connectionIds).SendAsync("Message", Context.ConnectionId, text);

    public Task JoinGroup(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task LeaveGroup(string group) => Groups.RemoveFromGroupAsync(Context.ConnectionId, group);

    public Task SendToGroup(string group, string text) =>
        Clients.Group(group).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToGroups(string[] groups, string text) =>
        Clients.Groups(groups).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToGroupExcept(string group, string[] connectionIds, string text) =>
        Clients.GroupExcept(group, connectionIds).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToOthersInGroup(string group, string text) =>
        Clients.OthersInGroup(group).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToUser(string user, string text) =>
        Clients.User(user).SendAsync("Message", Context.ConnectionId, text);

    public Task SendToUsers(string[] users, string text) =>
        Clients.Users(users).SendAsync("Message", Context.ConnectionId, text);

    public string? GetUserIdentifier() => Context.UserIdentifier;

    public void SetItem(string key, object? value) => Context.Items[key] = value;

    public object? GetItem(string key) => Context.Items.TryGetValue(key, out var value) ? value : null;

    public string? GetQuery(string name) => Context.GetHttpContext()!.Request.Query[name];

    public int Add(int a, int b) => a + b;

    public int Sum(int[] values) => values.Sum();

    public object? EchoAny(object? value) => value;

    public async Task<string> DelayedEcho(string text, int milliseconds)
    {
        await Task.Delay(milliseconds);
        return text;
    }

    public async IAsyncEnumerable<int> Counter(int count, int milliseconds,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (int i = 0; i < count; i++)
        {
            if (i > 0)
            {
                await Task.Delay(milliseconds, cancellationToken);
            }
            yield return i;
        }
    }

    public async Task<int> Upload(IAsyncEnumerable<int> values)
    {
        int sum = 0;
        await foreach (var value in values)
        {
            sum += value;
        }
        return sum;
    }

    public Task<int> AskCaller(int x) => Clients.Caller.InvokeAsync<int>("Double", x, Context.ConnectionAborted);

    public void ThrowHubError(string message) => throw new HubException(message);

    public void ThrowOther(string message) => throw new InvalidOperationException(message);

    [HubMethodName("Custom.Name")]
    public string RenamedMethod() => "renamed";

    public void Abort() => Context.Abort();
}
