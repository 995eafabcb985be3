// Starts the interop server under test (HUBS_INTEROP_SERVER) and stops it.
//
// HUBS_INTEROP_SERVER is a command line split on spaces, for example
//   /path/to/_build/tests/interop/hubs-interop-server
//   /path/to/tests/interop/hubs-interop-server.py
//   dotnet /path/to/tests/aspnetcore-interop/bin/Release/net10.0/Interop.dll
// A command that starts with a .py file runs it with HUBS_PYTHON (default
// /usr/bin/python3, Debian's, which has PyGObject); the Python server needs
// GI_TYPELIB_PATH, LD_LIBRARY_PATH and PYTHONPATH of a build (meson sets
// them). HUBS_INTEROP_IMPL=python tells the suites which server they test.
// The helper appends `--port 0`, waits for the line
// `Now listening on: http://127.0.0.1:PORT` and stops the server with SIGTERM
// (SIGKILL 5 s later if it is still there).

import { spawn } from "node:child_process";
import { after, before } from "node:test";

const LISTEN_TIMEOUT_MS = 20_000;
const TERM_GRACE_MS = 5_000;
const STDERR_KEEP = 64 * 1024;

const running = new Set();

// Whatever happens to this process, leave no server behind.
process.on("exit", () => {
  for (const child of running) {
    try { child.kill("SIGKILL"); } catch { /* already gone */ }
  }
});

export function serverCommand() {
  const command = (process.env.HUBS_INTEROP_SERVER ?? "").trim();
  if (!command) {
    throw new Error(
      "HUBS_INTEROP_SERVER is not set. Give the interop server's command line, e.g.\n" +
      "  HUBS_INTEROP_SERVER=$PWD/../../_build/tests/interop/hubs-interop-server\n" +
      "  HUBS_INTEROP_SERVER='dotnet ../aspnetcore-interop/bin/Release/net10.0/Interop.dll'");
  }
  const words = command.split(/ +/);
  if (words[0].endsWith(".py")) {
    words.unshift(process.env.HUBS_PYTHON || "/usr/bin/python3");
  }
  return words;
}

/** Whether the server under test is the Python one (for the few skips it needs). */
export const PYTHON_SERVER = process.env.HUBS_INTEROP_IMPL === "python" ||
  (process.env.HUBS_INTEROP_SERVER ?? "").trim().split(/ +/)[0].endsWith(".py");

/**
 * Starts one server. Resolves to { url, port, child, stdout(), stderr(), exited, stop() }.
 */
export async function startServer(extraArgs = []) {
  const [file, ...args] = serverCommand();
  const child = spawn(file, [...args, "--port", "0", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);

  let stderr = "";
  let stdout = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
    if (stderr.length > STDERR_KEEP) {
      stderr = stderr.slice(-STDERR_KEEP);
    }
  });

  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const url = await new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try { child.kill("SIGKILL"); } catch { /* already gone */ }
      // Give stderr a moment to drain so the message shows the server's last words.
      setTimeout(() => reject(new Error(
        `interop server \`${[file, ...args].join(" ")} --port 0\` ${why}.\n` +
        `--- its stdout ---\n${stdout}\n--- its stderr ---\n${stderr}`)), 100);
    };
    const timer = setTimeout(
      () => fail(`did not print "Now listening on: " within ${LISTEN_TIMEOUT_MS / 1000} s`),
      LISTEN_TIMEOUT_MS);
    child.on("error", (error) => fail(`could not be started: ${error.message}`));
    child.on("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal}) before listening`));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      if (settled) return;
      stdout += chunk;
      const match = /^Now listening on: (http:\/\/127\.0\.0\.1:(\d+))\r?$/m.exec(stdout);
      if (match) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  // Keep reading stdout so the server never blocks on a full pipe.
  child.stdout.on("data", (chunk) => {
    if (stdout.length < STDERR_KEEP) stdout += chunk;
  });

  let stopping = null;
  const server = {
    url,
    port: Number(new URL(url).port),
    child,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    /** SIGTERM, then SIGKILL after 5 s. Resolves to { code, signal }. */
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return exited;
        }
        child.kill("SIGTERM");
        let timer;
        const killed = new Promise((resolve) => {
          timer = setTimeout(() => {
            try { child.kill("SIGKILL"); } catch { /* already gone */ }
            resolve();
          }, TERM_GRACE_MS);
        });
        await Promise.race([exited, killed]);
        clearTimeout(timer);
        return exited;
      })();
      return stopping;
    },
  };
  return server;
}

/**
 * One server for the whole test file: started before the first test, stopped
 * after the last (also when tests fail). Use the returned object's `url`.
 */
export function useServer() {
  const holder = {
    server: null,
    get url() {
      if (!this.server) throw new Error("the interop server is not running");
      return this.server.url;
    },
    get port() {
      return this.server.port;
    },
  };
  before(async () => {
    holder.server = await startServer();
  }, { timeout: LISTEN_TIMEOUT_MS + 5_000 });
  after(async () => {
    if (!holder.server) return;
    const { code, signal } = await holder.server.stop();
    const stderr = holder.server.stderr();
    if (process.env.HUBS_TEST_SERVER_LOG) {
      process.stderr.write(`--- interop server stderr (exit ${code}, signal ${signal}) ---\n${stderr}\n`);
    }
    // The server must end cleanly on SIGTERM; under the sanitizers a memory
    // error or a leak shows in its stderr and its exit status.
    // The Python server prints the traceback of an exception it did not
    // expect, and PyGObject a GLib critical as "Warning: …: assertion … failed".
    const report = /ERROR: (Address|Leak)Sanitizer|runtime error:|CRITICAL \*\*|Traceback \(most recent call last\)|Warning: \S+: assertion '.*' failed/.exec(stderr);
    if (code !== 0 || report) {
      throw new Error(`the interop server ended with exit ${code}, signal ${signal}` +
        (report ? `, and reported: ${report[0]}` : "") + `\n--- its stderr ---\n${stderr}`);
    }
  }, { timeout: TERM_GRACE_MS + 5_000 });
  return holder;
}
