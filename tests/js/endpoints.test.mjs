// The interop server's HTTP routes outside the hubs' own behaviour: CORS and
// OPTIONS, /redirect, /echoredirect, the negotiate cookies, /bad-negotiate,
// negotiate answers, /generateJwtToken and /authorizedhub's authorization,
// the raw /echo connection (plain WebSocket and the client's HttpConnection on
// every transport), and the server's own start and stop.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TRANSPORTS } from "./lib/config.mjs";
import { HttpConnection, open, signalR, WebSocket, withTimeout } from "./lib/hub.mjs";
import { upgradeAnswer } from "./lib/rawws.mjs";
import { startServer, useServer } from "./lib/server.mjs";

const server = useServer();
const T = { timeout: 20_000 };

const NAME_IDENTIFIER = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";

function setCookies(response) {
  return response.headers.getSetCookie();
}

function assertNegotiateCookies(response) {
  const cookies = setCookies(response);
  assert.ok(cookies.includes("testCookie=testValue; path=/"), JSON.stringify(cookies));
  assert.ok(cookies.includes("testCookie2=testValue2; path=/"), JSON.stringify(cookies));
  const expired = cookies.find((cookie) => cookie.startsWith("expiredCookie=doesntmatter;"));
  assert.ok(expired, JSON.stringify(cookies));
  const expires = /expires=([^;]+)/i.exec(expired)?.[1];
  assert.ok(expires && Date.parse(expires) < Date.now(), `expiredCookie expires ${expires}`);
  assert.match(expired, /; path=\//);
  assert.equal(cookies.length, 3);
}

function base64UrlJson(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

describe("CORS and OPTIONS", () => {
  it("OPTIONS on any path answers 204 with an empty body", T, async () => {
    for (const path of ["/", "/testhub", "/testhub/negotiate", "/authorizedhub/negotiate", "/no/such/path", "/echo"]) {
      const response = await fetch(`${server.url}${path}`, { method: "OPTIONS" });
      assert.equal(response.status, 204, path);
      assert.equal(await response.text(), "", path);
      assert.equal(response.headers.get("access-control-allow-origin"), null, `${path}: no Origin, no CORS headers`);
    }
  });

  it("a preflight gets the origin, credentials, and the requested method and headers back", T, async () => {
    const response = await fetch(`${server.url}/authorizedhub/negotiate?negotiateVersion=1`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://example.test:8080",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-requested-with,authorization",
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), "http://example.test:8080");
    assert.equal(response.headers.get("access-control-allow-credentials"), "true");
    assert.equal(response.headers.get("access-control-allow-methods"), "POST");
    assert.equal(response.headers.get("access-control-allow-headers"), "x-requested-with,authorization");
  });

  it("any request with an Origin gets CORS headers on its answer", T, async () => {
    const response = await fetch(`${server.url}/testhub/negotiate?negotiateVersion=1`, {
      method: "POST",
      headers: { Origin: "http://localhost:9876" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-origin"), "http://localhost:9876");
    assert.equal(response.headers.get("access-control-allow-credentials"), "true");
    assert.equal(response.headers.get("access-control-allow-methods"), null);
    assert.equal(response.headers.get("access-control-allow-headers"), null);

    const unauthorized = await fetch(`${server.url}/authorizedhub/negotiate?negotiateVersion=1`, {
      method: "POST",
      headers: { Origin: "http://localhost:9876" },
    });
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers.get("access-control-allow-origin"), "http://localhost:9876");
  });

  it("no Origin, no CORS headers", T, async () => {
    const response = await fetch(`${server.url}/testhub/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    assert.equal(response.headers.get("access-control-allow-credentials"), null);
  });
});

// The server under test serves every transport, as ASP.NET Core does by
// default; negotiate lists them in this order, each only if enabled.
const TRANSPORT_ENTRIES = [
  { transport: "WebSockets", transferFormats: ["Text", "Binary"] },
  { transport: "ServerSentEvents", transferFormats: ["Text"] },
  { transport: "LongPolling", transferFormats: ["Text", "Binary"] },
];
const served = (entries) => entries;

describe("negotiate", () => {
  it("/testhub: version 1 answer with ids and the transports served, and the cookies", T, async () => {
    const response = await fetch(`${server.url}/testhub/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assertNegotiateCookies(response);
    const body = await response.json();
    assert.deepEqual(Object.keys(body), ["negotiateVersion", "connectionId", "connectionToken", "availableTransports"]);
    assert.equal(body.negotiateVersion, 1);
    assert.match(body.connectionId, /^[A-Za-z0-9_-]{22}$/);
    assert.match(body.connectionToken, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(body.connectionId, body.connectionToken);
    assert.deepEqual(body.availableTransports, served(TRANSPORT_ENTRIES));
  });

  it("/testhub-nowebsockets does not list WebSockets", T, async () => {
    const response = await fetch(`${server.url}/testhub-nowebsockets/negotiate?negotiateVersion=1`, { method: "POST" });
    const body = await response.json();
    assert.deepEqual(body.availableTransports, served(TRANSPORT_ENTRIES.slice(1)));
  });

  it("hub paths match case-insensitively", T, async () => {
    const response = await fetch(`${server.url}/TestHub/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 200);
    assert.equal((await response.json()).negotiateVersion, 1);
  });

  it("/bad-negotiate answers 400 with its body, and the cookies", T, async () => {
    const response = await fetch(`${server.url}/bad-negotiate/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), "Some response from server");
    assertNegotiateCookies(response);
    const other = await fetch(`${server.url}/bad-negotiate/anything`);
    assert.equal(other.status, 400);
    assert.equal(await other.text(), "Some response from server");
    assert.deepEqual(setCookies(other), [], "no /negotiate in the path, no cookies");
  });
});

describe("/redirect and /echoredirect", () => {
  it("/redirect answers the redirect body with a counter, no Content-Type and no cookies", T, async () => {
    const base = "http://somewhere.test:1234";
    const first = await fetch(`${server.url}/redirect/negotiate?negotiateVersion=1&baseUrl=${encodeURIComponent(base)}`, { method: "POST" });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("content-type"), null);
    assert.deepEqual(setCookies(first), []);
    const text = await first.text();
    const match = /^\{ "url": "http:\/\/somewhere\.test:1234\/testHub\?numRedirects=(\d+)" \}$/.exec(text);
    assert.ok(match, text);
    const second = await fetch(`${server.url}/redirect?baseUrl=${encodeURIComponent(base)}`);
    assert.equal(await second.text(), `{ "url": "${base}/testHub?numRedirects=${Number(match[1]) + 1}" }`);
  });

  it("/echoredirect answers 307 to the same path on /echo, query kept, absolute, no cookies", T, async () => {
    const response = await fetch(`${server.url}/echoredirect/negotiate?negotiateVersion=1`, { method: "POST", redirect: "manual" });
    assert.equal(response.status, 307);
    assert.equal(response.headers.get("location"), `${server.url}/echo/negotiate?negotiateVersion=1`);
    assert.equal(await response.text(), "");
    assert.deepEqual(setCookies(response), []);
  });
});

describe("/generateJwtToken and /authorizedhub", () => {
  it("/generateJwtToken gives an HS256 JWT for testuser that expires in 5 s", T, async () => {
    const response = await fetch(`${server.url}/generateJwtToken`);
    assert.equal(response.status, 200);
    const token = await response.text();
    const parts = token.split(".");
    assert.equal(parts.length, 3, token);
    const header = base64UrlJson(parts[0]);
    const payload = base64UrlJson(parts[1]);
    assert.equal(header.alg, "HS256");
    assert.equal(payload.nameid, "testuser");
    assert.equal(payload.iss, "SignalRTestServer");
    assert.equal(payload.aud, "SignalRTests");
    const lifetime = payload.exp - Date.now() / 1000;
    assert.ok(lifetime > 2 && lifetime <= 6, `expires in ${lifetime} s`);
    const second = await (await fetch(`${server.url}/generateJwtToken`)).text();
    assert.equal(second.split(".").length, 3);
  });

  it("negotiate without a token: 401, empty body, WWW-Authenticate: Bearer, cookies", T, async () => {
    const response = await fetch(`${server.url}/authorizedhub/negotiate?negotiateVersion=1`, { method: "POST" });
    assert.equal(response.status, 401);
    assert.equal(response.statusText, "Unauthorized");
    assert.equal(await response.text(), "");
    assert.equal(response.headers.get("www-authenticate"), "Bearer");
    assertNegotiateCookies(response);
  });

  it("a rejected token: 401 with WWW-Authenticate naming invalid_token", T, async () => {
    const token = await (await fetch(`${server.url}/generateJwtToken`)).text();
    const [header, payload, signature] = token.split(".");
    const flipped = signature[0] === "A" ? "B" + signature.slice(1) : "A" + signature.slice(1);
    for (const bad of ["not-a-jwt", `${header}.${payload}.${flipped}`]) {
      const response = await fetch(`${server.url}/authorizedhub/negotiate?negotiateVersion=1`, {
        method: "POST",
        headers: { Authorization: `Bearer ${bad}` },
      });
      assert.equal(response.status, 401, bad);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_token"/, bad);
    }
  });

  it("a valid token works as Bearer header (any case) and as access_token, several times", T, async () => {
    const token = await (await fetch(`${server.url}/generateJwtToken`)).text();
    const variants = [
      [`?negotiateVersion=1`, { Authorization: `Bearer ${token}` }],
      [`?negotiateVersion=1`, { Authorization: `bearer   ${token}  ` }],
      [`?negotiateVersion=1&access_token=${token}`, {}],
      [`?negotiateVersion=1`, { Authorization: `Bearer ${token}` }],
    ];
    for (const [query, headers] of variants) {
      const response = await fetch(`${server.url}/authorizedhub/negotiate${query}`, { method: "POST", headers });
      assert.equal(response.status, 200, JSON.stringify(headers));
      assert.equal((await response.json()).negotiateVersion, 1);
    }
  });

  for (const transport of TRANSPORTS) {
    it(`the hub sees user testuser over ${transport}`, T, async (t) => {
      const token = await (await fetch(`${server.url}/generateJwtToken`)).text();
      const connection = await open(t, `${server.url}/authorizedhub`, { transport, accessTokenFactory: () => token });
      assert.equal(await connection.invoke("GetUserNameIdentifier"), "testuser");
      assert.equal(await connection.invoke("GetUserClaim", NAME_IDENTIFIER), "testuser");
      assert.equal(await connection.invoke("GetUserClaim", "no-such-claim"), "");
    });
  }
});

describe("/echo raw connection", () => {
  function plainWebSocket(t, url) {
    const socket = new WebSocket(url);
    t.after(() => socket.terminate());
    const messages = [];
    const waiters = [];
    socket.on("message", (data) => {
      // ws 7 (the client's dependency) gives text frames as strings.
      const item = { text: data.toString("utf8"), isBinary: typeof data !== "string" };
      const waiter = waiters.shift();
      if (waiter) waiter(item);
      else messages.push(item);
    });
    const opened = new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    return {
      socket,
      opened: withTimeout(opened, 5000, "the WebSocket to open"),
      closed,
      next: () => withTimeout(messages.length ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve)), 5000, "an echo"),
    };
  }

  it("a plain WebSocket without negotiate gets every text message back; close is 1000", T, async (t) => {
    const ws = plainWebSocket(t, `${server.url.replace("http", "ws")}/echo`);
    await ws.opened;
    for (const text of ["hello", "你好，世界！ 😀"]) {
      ws.socket.send(text);
      assert.deepEqual(await ws.next(), { text, isBinary: false });
    }
    // A big message may come back in several pieces (each chunk the server
    // reads is echoed as it comes), but all of it, in order.
    const big = "0123456789abcdef".repeat(5000);
    ws.socket.send(big);
    let echoed = "";
    while (echoed.length < big.length) {
      const { text, isBinary } = await ws.next();
      assert.equal(isBinary, false);
      echoed += text;
    }
    assert.ok(echoed === big, `the big message came back changed (${echoed.length} characters)`);
    ws.socket.close(1000);
    assert.equal((await withTimeout(ws.closed, 5000, "close")).code, 1000);
  });

  it("a plain WebSocket after negotiate (with id) echoes too", T, async (t) => {
    const negotiation = await (await fetch(`${server.url}/echo/negotiate?negotiateVersion=1`, { method: "POST" })).json();
    const ws = plainWebSocket(t, `${server.url.replace("http", "ws")}/echo?id=${negotiation.connectionToken}`);
    await ws.opened;
    ws.socket.send("after negotiate");
    assert.deepEqual(await ws.next(), { text: "after negotiate", isBinary: false });
    ws.socket.close(1000);
    assert.equal((await withTimeout(ws.closed, 5000, "close")).code, 1000);
  });

  it("/echoredirect answers a WebSocket upgrade with 307 to /echo, query kept", T, async () => {
    const answer = await upgradeAnswer(server.url, "/echoredirect?id=abc&x=1");
    assert.equal(answer.status, 307);
    assert.equal(answer.headers.location, `${server.url}/echo?id=abc&x=1`);
  });

  for (const transport of TRANSPORTS) {
    // The WebSocket of the Node client (ws) does not follow redirects, so the
    // client cannot use /echoredirect over WebSockets (the negotiate is
    // redirected, the upgrade of /echoredirect?id=… is not followed).
    const paths = transport === "WebSockets" ? ["/echo"] : ["/echo", "/echoredirect"];
    for (const path of paths) {
      it(`${path} through the client's HttpConnection over ${transport}`, T, async (t) => {
        const connection = new HttpConnection(`${server.url}${path}`, {
          transport: signalR.HttpTransportType[transport],
          logger: signalR.NullLogger.instance,
        });
        t.after(() => withTimeout(connection.stop(), 5000, "stop").catch(() => {}));
        const received = [];
        let waiter = null;
        connection.onreceive = (data) => {
          received.push(data);
          waiter?.();
        };
        const closed = new Promise((resolve) => { connection.onclose = resolve; });
        await withTimeout(connection.start(signalR.TransferFormat.Text), 10_000, "start()");
        const message = `Hello World over ${transport} 😀`;
        await connection.send(message);
        await withTimeout(new Promise((resolve) => {
          if (received.length) resolve();
          else waiter = resolve;
        }), 5000, "the echo");
        assert.deepEqual(received, [message]);
        await withTimeout(connection.stop(), 5000, "stop()");
        assert.equal(await withTimeout(closed, 5000, "onclose"), undefined);
      });
    }
  }
});

describe("the server process", () => {
  it("prints one line, and on SIGTERM closes its connections and exits 0", { timeout: 40_000 }, async (t) => {
    const own = await startServer();
    t.after(() => own.stop());
    assert.equal(own.stdout(), `Now listening on: ${own.url}\n`);
    const connection = await open(t, `${own.url}/testhub`, { transport: "WebSockets" });
    assert.equal(await connection.invoke("Echo", "before stop"), "before stop");
    const started = Date.now();
    own.child.kill("SIGTERM");
    const { code, signal } = await withTimeout(own.exited, 10_000, "the server to exit after SIGTERM");
    assert.equal(signal, null, "it exits by itself, not by the signal");
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 6000, `took ${Date.now() - started} ms`);
    await withTimeout(connection.closedWith, 5000, "the client to see the connection end");
    assert.equal(own.stdout(), `Now listening on: ${own.url}\n`, "nothing else on stdout");
  });
});
