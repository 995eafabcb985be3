// TLS: the interop server given a certificate (--tls-cert/--tls-key) serves
// HTTPS and WSS only. A self-signed certificate is made with the openssl
// command line for the run; the client accepts it because
// NODE_TLS_REJECT_UNAUTHORIZED is 0 in this process. Runs over every
// transport, whatever HUBS_TRANSPORTS says.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ALL_TRANSPORTS } from "./lib/config.mjs";
import { open, withTimeout } from "./lib/hub.mjs";
import { serverCommand } from "./lib/server.mjs";

process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
// Node warns once that the setting is insecure: expected here.
process.removeAllListeners("warning");

const T = { timeout: 20_000 };

const server = { url: null, child: null, stderr: "" };
let directory;

before(async () => {
  directory = mkdtempSync(join(tmpdir(), "hubs-tls-"));
  const cert = join(directory, "cert.pem");
  const key = join(directory, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", key, "-out", cert], { stdio: "ignore" });

  const [file, ...args] = serverCommand();
  // Under the sanitizers, no leak check for this server: LeakSanitizer
  // (GCC 12) crashes ("Tracer caught signal 11" on a dynamic TLS block) once
  // glib-networking's GnuTLS module is loaded. Memory errors are still
  // caught, and the other suites check for leaks.
  const env = { ...process.env, ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ?? ""}:detect_leaks=0` };
  const child = spawn(file, [...args, "--port", "0", "--tls-cert", cert, "--tls-key", key],
    { stdio: ["ignore", "pipe", "pipe"], env });
  server.child = child;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => { server.stderr += chunk; });
  child.stdout.setEncoding("utf8");
  server.url = await withTimeout(new Promise((resolve, reject) => {
    let stdout = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /^Now listening on: (https:\/\/127\.0\.0\.1:\d+)\r?$/m.exec(stdout);
      if (match) resolve(match[1]);
    });
    child.on("exit", (code) => reject(new Error(`the server exited (${code}): ${server.stderr}`)));
  }), 20_000, "the TLS server's listening line");
}, { timeout: 30_000 });

after(async () => {
  if (server.child) {
    const exited = new Promise((resolve) => server.child.on("exit", (code, signal) => resolve({ code, signal })));
    server.child.kill("SIGTERM");
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 5000);
    const { code, signal } = await exited;
    clearTimeout(timer);
    const report = /ERROR: (Address|Leak)Sanitizer|runtime error:|CRITICAL \*\*/.exec(server.stderr);
    if (code !== 0 || report) {
      throw new Error(`the TLS server ended with exit ${code}, signal ${signal}` +
        (report ? `, and reported: ${report[0]}` : "") + `\n--- its stderr ---\n${server.stderr}`);
    }
  }
  if (directory) rmSync(directory, { recursive: true, force: true });
}, { timeout: 15_000 });

describe("TLS", () => {
  it("negotiate over https", T, async () => {
    const response = await fetch(`${server.url}/testhub/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).negotiateVersion, 1);
  });

  it("plain HTTP is not served", T, async () => {
    await assert.rejects(fetch(`${server.url.replace("https:", "http:")}/testhub/negotiate`, { method: "POST" }));
  });

  for (const transport of ALL_TRANSPORTS) {
    it(`the official client over ${transport} (wss/https)`, T, async (t) => {
      const connection = await open(t, `${server.url}/testhub`, { transport });
      assert.equal(await connection.invoke("GetActiveTransportName"), transport);
      assert.equal(await connection.invoke("Echo", "secure"), "secure");
      await withTimeout(connection.stop(), 5000, "stop()");
    });
  }
});
