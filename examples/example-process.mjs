// Starts an example program on a free port of 127.0.0.1 for a test, and
// stops it: the tests of every example share it.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";

// Runs `command args… --port 0` and resolves once it prints the line
// "Now listening on: http://127.0.0.1:PORT" (as ASP.NET Core does).
export async function startExample(command, args = [], { env = {}, name = command } = {}) {
  const child = spawn(command, [...args, "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let output = "";
  let errors = "";
  const outputWaiters = new Set();
  child.stderr.on("data", (chunk) => {
    errors += chunk;
    process.stderr.write(chunk);
  });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s: ${output}${errors}`)), 20_000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      for (const check of outputWaiters) check();
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening: ${output}${errors}`));
    });
  });

  return {
    child,
    url,
    output: () => output,
    errors: () => errors,
    // Resolves once what the program prints on standard output after the
    // offset `since` (say, output().length earlier) matches `pattern`.
    waitForOutput(pattern, { since = 0, timeoutMs = 5_000 } = {}) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          outputWaiters.delete(check);
          reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(since)}`));
        }, timeoutMs);
        function check() {
          const match = pattern.exec(output.slice(since));
          if (match) {
            clearTimeout(timer);
            outputWaiters.delete(check);
            resolve(match);
          }
        }
        outputWaiters.add(check);
        check();
      });
    },
    // SIGTERM, as a service manager would stop it: a clean exit is part of
    // the example.
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
      assert.equal(child.signalCode, null, `${name} was killed by ${child.signalCode}`);
      assert.equal(child.exitCode, 0, `${name} exits cleanly on SIGTERM:\n${errors}`);
    },
  };
}

// Resolves with what the next `method` message to `connection` carries.
export function nextMessage(connection, method, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off(method, handler);
      reject(new Error(`no ${method} within ${timeoutMs} ms`));
    }, timeoutMs);
    function handler(...args) {
      clearTimeout(timer);
      connection.off(method, handler);
      resolve(args);
    }
    connection.on(method, handler);
  });
}
