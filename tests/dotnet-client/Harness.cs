// The small pieces the tests stand on: a TAP printer, the interop server's
// process, a TCP proxy that can cut every connection through it, and an
// inbox for messages the server sends.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace DotnetClient;

/// <summary>Runs named test bodies one after another and prints TAP.</summary>
sealed class Tap
{
  static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

  int _count;
  int _failed;
  readonly string? _filter = Environment.GetEnvironmentVariable("HUBS_TEST_FILTER");

  public int Failed => _failed;

  public async Task Run(string name, Func<Task> body, TimeSpan? timeout = null)
  {
    if (_filter is not null &&
        !_filter.Split('|').Any(part => name.Contains(part, StringComparison.OrdinalIgnoreCase)))
      return;
    var number = ++_count;
    var watch = Stopwatch.StartNew();
    try
    {
      await body().WaitAsync(timeout ?? DefaultTimeout);
      Console.WriteLine($"ok {number} - {name}");
    }
    catch (SkipTest skip)
    {
      Console.WriteLine($"ok {number} - {name} # SKIP {skip.Message}");
    }
    catch (Exception e)
    {
      _failed++;
      Console.WriteLine($"not ok {number} - {name}");
      foreach (var line in e.ToString().Split('\n'))
        Console.WriteLine($"# {line.TrimEnd()}");
    }
    Console.Out.Flush();
    if (watch.Elapsed > TimeSpan.FromSeconds(5))
      Console.Error.WriteLine($"{name}: {watch.Elapsed.TotalSeconds:F1} s");
  }

  public void Skip(string name, string why)
  {
    Console.WriteLine($"ok {++_count} - {name} # SKIP {why}");
  }

  public void Plan()
  {
    Console.WriteLine($"1..{_count}");
  }
}

/// <summary>Raised by a test that cannot run here.</summary>
sealed class SkipTest(string why) : Exception(why);

/// <summary>Raised when a check fails.</summary>
sealed class CheckFailed(string message) : Exception(message);

static class Check
{
  public static void Equal<T>(T expected, T actual, string what = "value")
  {
    if (!EqualityComparer<T>.Default.Equals(expected, actual))
      throw new CheckFailed($"{what}: expected <{expected}>, got <{actual}>");
  }

  public static void True(bool condition, string what)
  {
    if (!condition)
      throw new CheckFailed(what);
  }

  public static void Sequence<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what = "sequence")
  {
    var e = expected.ToList();
    var a = actual.ToList();
    if (!e.SequenceEqual(a))
      throw new CheckFailed($"{what}: expected [{string.Join(", ", e)}], got [{string.Join(", ", a)}]");
  }

  /// <summary>The exception <paramref name="call"/> fails with; fails itself when it succeeds.</summary>
  public static async Task<Exception> Throws(Func<Task> call, string what)
  {
    try
    {
      await call();
    }
    catch (Exception e)
    {
      return e;
    }
    throw new CheckFailed($"{what}: succeeded, but should have failed");
  }
}

/// <summary>
/// The interop server under test: HUBS_INTEROP_SERVER is its command line
/// (split on spaces; a first word ending in .py runs with HUBS_PYTHON, or
/// /usr/bin/python3), as for tests/js/lib/server.mjs. Started with
/// <c>--port 0</c>; stopped with SIGTERM, after which it must exit 0.
/// </summary>
sealed class InteropServer : IAsyncDisposable
{
  [DllImport("libc", SetLastError = true)]
  static extern int kill(int pid, int sig);
  const int SIGTERM = 15;

  readonly Process _process;
  readonly Task _stderrPump;
  readonly System.Text.StringBuilder _stderr = new();

  public string Url { get; }
  public bool IsPython { get; }

  InteropServer(Process process, string url, bool isPython, Task stderrPump)
  {
    _process = process;
    Url = url;
    IsPython = isPython;
    _stderrPump = stderrPump;
  }

  public string Stderr
  {
    get { lock (_stderr) return _stderr.ToString(); }
  }

  public static async Task<InteropServer> StartAsync(string command)
  {
    var words = command.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    var isPython = words[0].EndsWith(".py", StringComparison.Ordinal);
    if (isPython)
      words.Insert(0, Environment.GetEnvironmentVariable("HUBS_PYTHON") ?? "/usr/bin/python3");
    var info = new ProcessStartInfo(words[0])
    {
      RedirectStandardOutput = true,
      RedirectStandardError = true,
      RedirectStandardInput = false,
      UseShellExecute = false,
    };
    foreach (var word in words.Skip(1))
      info.ArgumentList.Add(word);
    info.ArgumentList.Add("--port");
    info.ArgumentList.Add("0");

    var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {words[0]}");
    var stderr = new System.Text.StringBuilder();
    var pump = Task.Run(async () =>
    {
      string? line;
      while ((line = await process.StandardError.ReadLineAsync()) is not null)
        lock (stderr)
          if (stderr.Length < 64 * 1024)
            stderr.AppendLine(line);
    });

    const string prefix = "Now listening on: ";
    var listening = Task.Run(async () =>
    {
      string? line;
      while ((line = await process.StandardOutput.ReadLineAsync()) is not null)
        if (line.StartsWith(prefix, StringComparison.Ordinal))
          return line[prefix.Length..].Trim();
      return null;
    });
    string? url;
    try
    {
      url = await listening.WaitAsync(TimeSpan.FromSeconds(20));
    }
    catch (TimeoutException)
    {
      url = null;
    }
    if (url is null)
    {
      try { process.Kill(); } catch (InvalidOperationException) { }
      lock (stderr)
        throw new InvalidOperationException($"the server did not say where it listens; its stderr:\n{stderr}");
    }
    // Whatever else it prints goes nowhere, but must be read.
    _ = Task.Run(async () =>
    {
      while (await process.StandardOutput.ReadLineAsync() is not null) { }
    });
    var server = new InteropServer(process, url, isPython, pump);
    lock (stderr)
      server._stderr.Append(stderr);
    return server;
  }

  /// <summary>SIGTERM; the exit status, or null when it had to be killed.</summary>
  public async Task<int?> StopAsync()
  {
    if (_process.HasExited)
      return _process.ExitCode;
    kill(_process.Id, SIGTERM);
    try
    {
      await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
      await _stderrPump.WaitAsync(TimeSpan.FromSeconds(5));
      return _process.ExitCode;
    }
    catch (TimeoutException)
    {
      _process.Kill();
      return null;
    }
  }

  public async ValueTask DisposeAsync()
  {
    if (!_process.HasExited)
    {
      try { _process.Kill(); } catch (InvalidOperationException) { }
      await _process.WaitForExitAsync();
    }
    _process.Dispose();
  }
}

/// <summary>
/// A TCP proxy in front of the server whose Cut() drops every connection
/// through it at once, without a WebSocket close or an HTTP end: what a
/// network failure looks like to both ends.
/// </summary>
sealed class CuttingProxy : IAsyncDisposable
{
  readonly TcpListener _listener = new(IPAddress.Loopback, 0);
  readonly IPEndPoint _target;
  readonly List<(TcpClient client, TcpClient upstream)> _pairs = [];
  readonly CancellationTokenSource _stop = new();
  readonly Task _accepting;
  int _accepted;
  long _refuseUntil;

  public string Url { get; }
  public int Accepted => Volatile.Read(ref _accepted);

  public CuttingProxy(string targetUrl)
  {
    var target = new Uri(targetUrl);
    _target = new IPEndPoint(IPAddress.Parse(target.Host), target.Port);
    _listener.Start();
    Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    _accepting = Accept();
  }

  async Task Accept()
  {
    while (!_stop.IsCancellationRequested)
    {
      TcpClient client;
      try
      {
        client = await _listener.AcceptTcpClientAsync(_stop.Token);
      }
      catch (Exception)
      {
        return;
      }
      if (Environment.TickCount64 < Interlocked.Read(ref _refuseUntil))
      {
        Abort(client);
        continue;
      }
      var upstream = new TcpClient();
      try
      {
        await upstream.ConnectAsync(_target);
      }
      catch (SocketException)
      {
        client.Dispose();
        upstream.Dispose();
        continue;
      }
      lock (_pairs)
        _pairs.Add((client, upstream));
      Interlocked.Increment(ref _accepted);
      _ = Pipe(client, upstream);
      _ = Pipe(upstream, client);
    }
  }

  async Task Pipe(TcpClient from, TcpClient to)
  {
    try
    {
      await from.GetStream().CopyToAsync(to.GetStream());
      to.Client.Shutdown(SocketShutdown.Send);
    }
    catch (Exception)
    {
      Drop(from, to);
    }
  }

  void Drop(TcpClient a, TcpClient b)
  {
    lock (_pairs)
      _pairs.RemoveAll(p => p.client == a || p.client == b);
    Abort(a);
    Abort(b);
  }

  static void Abort(TcpClient c)
  {
    try
    {
      c.Client.LingerState = new LingerOption(true, 0);
    }
    catch (Exception) { }
    c.Dispose();
  }

  /// <summary>
  /// Drops every connection through the proxy, and the new ones for
  /// <paramref name="refuse"/>; how many there were.
  /// </summary>
  public int Cut(TimeSpan refuse = default)
  {
    Interlocked.Exchange(ref _refuseUntil, Environment.TickCount64 + (long)refuse.TotalMilliseconds);
    List<(TcpClient client, TcpClient upstream)> pairs;
    lock (_pairs)
    {
      pairs = [.. _pairs];
      _pairs.Clear();
    }
    foreach (var (client, upstream) in pairs)
    {
      Abort(client);
      Abort(upstream);
    }
    return pairs.Count;
  }

  public async ValueTask DisposeAsync()
  {
    _stop.Cancel();
    _listener.Stop();
    Cut();
    await _accepting;
  }
}

/// <summary>Items that arrive in callbacks, awaited one by one in order.</summary>
sealed class Inbox<T>
{
  readonly Channel<T> _channel = Channel.CreateUnbounded<T>();

  public void Add(T item) => _channel.Writer.TryWrite(item);

  public async Task<T> Next(double seconds = 10)
  {
    using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
    try
    {
      return await _channel.Reader.ReadAsync(cancel.Token);
    }
    catch (OperationCanceledException)
    {
      throw new CheckFailed($"nothing arrived within {seconds} s");
    }
  }

  /// <summary>Whether nothing is waiting now.</summary>
  public bool Empty => !_channel.Reader.TryPeek(out _);
}
