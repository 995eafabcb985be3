// A WebSocket client written by hand on node:net, for tests that must see or
// send exact bytes and frames: the HTTP/1.1 upgrade, masking, fragmentation,
// control frames and protocol violations. No SignalR client involved.

import crypto from "node:crypto";
import net from "node:net";
import { withTimeout } from "./hub.mjs";

export const RS = "\x1e";
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/** Builds one frame. Client frames are masked unless mask: false. */
export function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, "utf8");
  const length = data.length;
  let header;
  if (length < 126) {
    header = Buffer.alloc(2);
    header[1] = length;
  } else if (length < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf);
  if (!mask) {
    return Buffer.concat([header, data]);
  }
  header[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    masked[i] = data[i] ^ key[i & 3];
  }
  return Buffer.concat([header, key, masked]);
}

/** POST {path}/negotiate?negotiateVersion=1 and return the parsed answer. */
export async function negotiate(baseUrl, path, query = "") {
  const response = await fetch(`${baseUrl}${path}/negotiate?negotiateVersion=1${query ? "&" + query : ""}`, { method: "POST" });
  if (response.status !== 200) {
    throw new Error(`negotiate ${path}: HTTP ${response.status} ${await response.text()}`);
  }
  return response.json();
}

export class RawWebSocket {
  /**
   * Connects and upgrades. Options:
   *   negotiate: true (default) to negotiate first and pass ?id=<connectionToken>
   *   query:     extra query text (without "?")
   *   headers:   extra request headers
   * Throws if the answer is not a valid 101.
   */
  static async connect(baseUrl, path, { negotiate: doNegotiate = true, query = "", headers = {}, timeoutMs = 5000 } = {}) {
    const params = [];
    let negotiation = null;
    if (doNegotiate) {
      negotiation = await negotiate(baseUrl, path, query);
      params.push(`id=${encodeURIComponent(negotiation.connectionToken)}`);
    }
    if (query) params.push(query);
    const target = `${path}${params.length ? "?" + params.join("&") : ""}`;
    const ws = new RawWebSocket(new URL(baseUrl));
    ws.negotiation = negotiation;
    await ws._upgrade(target, headers, timeoutMs);
    if (ws.response.status !== 101) {
      ws.destroy();
      throw new Error(`upgrade of ${target}: expected 101, got ${ws.response.statusLine}`);
    }
    return ws;
  }

  constructor(url) {
    this.url = url;
    this.buffer = Buffer.alloc(0);
    this.events = [];
    this.waiters = [];
    this.partial = null; // { opcode, chunks, frames }
    this.records = [];
    this.text = "";
    this.closeFrame = null;
    this.ended = false;
    this.upgraded = false;
  }

  _upgrade(target, extraHeaders, timeoutMs) {
    this.key = crypto.randomBytes(16).toString("base64");
    const headers = {
      Host: `${this.url.hostname}:${this.url.port}`,
      Upgrade: "websocket",
      Connection: "Upgrade",
      "Sec-WebSocket-Key": this.key,
      "Sec-WebSocket-Version": "13",
      ...extraHeaders,
    };
    const request = `GET ${target} HTTP/1.1\r\n` +
      Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("") + "\r\n";

    const socket = net.connect({ host: this.url.hostname, port: Number(this.url.port) });
    this.socket = socket;
    socket.setNoDelay(true);
    const upgraded = new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (chunk) => {
        if (this.upgraded) {
          this._receive(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const lines = head.subarray(0, end).toString("latin1").split("\r\n");
        const statusLine = lines[0];
        const status = Number(statusLine.split(" ")[1]);
        const responseHeaders = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          responseHeaders[name] = responseHeaders[name] ? `${responseHeaders[name]}, ${value}` : value;
        }
        this.response = { statusLine, status, headers: responseHeaders };
        this.upgraded = true;
        const rest = head.subarray(end + 4);
        resolve();
        if (rest.length) this._receive(rest);
      };
      socket.on("data", onData);
      socket.on("error", (error) => {
        this.error = error;
        reject(error);
      });
      socket.on("close", () => {
        this.ended = true;
        this._push({ kind: "end" });
        reject(new Error("connection closed before the upgrade answer"));
      });
      socket.on("connect", () => socket.write(request));
    });
    return withTimeout(upgraded, timeoutMs, `the answer to the upgrade of ${target}`);
  }

  /** The Sec-WebSocket-Accept the server must answer with. */
  expectedAccept() {
    return crypto.createHash("sha1").update(this.key + WS_GUID).digest("base64");
  }

  _push(event) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(event);
    else this.events.push(event);
  }

  _receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const rsv = (b[0] >> 4) & 0x7;
      const opcode = b[0] & 0xf;
      const masked = (b[1] & 0x80) !== 0;
      let length = b[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      let key = null;
      if (masked) {
        if (b.length < offset + 4) return;
        key = b.subarray(offset, offset + 4);
        offset += 4;
      }
      if (b.length < offset + length) return;
      let payload = Buffer.from(b.subarray(offset, offset + length));
      if (key) {
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      this.buffer = b.subarray(offset + length);
      this._frame({ fin, rsv, opcode, masked, payload });
    }
  }

  _frame(f) {
    (this.rawFrames ??= []).push(f);
    if (f.opcode >= 0x8) {
      if (f.opcode === OP.CLOSE) {
        const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
        const reason = f.payload.length > 2 ? f.payload.subarray(2).toString("utf8") : "";
        this.closeFrame = { code, reason };
        this._push({ kind: "close", code, reason, frame: f });
      } else {
        this._push({ kind: f.opcode === OP.PING ? "ping" : f.opcode === OP.PONG ? "pong" : "control", data: f.payload, frame: f });
      }
      return;
    }
    if (f.opcode !== OP.CONTINUATION) {
      this.partial = { opcode: f.opcode, chunks: [f.payload], frames: [f] };
    } else if (this.partial) {
      this.partial.chunks.push(f.payload);
      this.partial.frames.push(f);
    } else {
      this._push({ kind: "protocol-error", frame: f });
      return;
    }
    if (f.fin) {
      const { opcode, chunks, frames } = this.partial;
      this.partial = null;
      const data = Buffer.concat(chunks);
      this._push({ kind: opcode === OP.TEXT ? "text" : "binary", data, frames });
    }
  }

  /** The next event: text, binary, ping, pong, close or end. */
  next(ms = 5000, what = "a WebSocket event") {
    if (this.events.length) return Promise.resolve(this.events.shift());
    let resolver;
    const promise = new Promise((resolve) => {
      resolver = resolve;
      this.waiters.push(resolve);
    });
    return withTimeout(promise, ms, what).catch((error) => {
      const index = this.waiters.indexOf(resolver);
      if (index >= 0) this.waiters.splice(index, 1);
      throw error;
    });
  }

  /** The next data message (text or binary); fails on close or end. */
  async nextMessage(ms = 5000) {
    const event = await this.next(ms, "a WebSocket message");
    if (event.kind !== "text" && event.kind !== "binary") {
      throw new Error(`expected a data message, got ${describe(event)}`);
    }
    return event;
  }

  /**
   * The next hub protocol record (JSON text without the record separator),
   * whatever the WebSocket messages it came in. Fails on close or end.
   */
  async nextRecord(ms = 5000, { skipPings = false } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      const rs = this.text.indexOf(RS);
      if (rs >= 0) {
        const record = this.text.slice(0, rs);
        this.text = this.text.slice(rs + 1);
        if (skipPings && record === '{"type":6}') continue;
        return record;
      }
      const event = await this.next(Math.max(1, deadline - Date.now()), "a hub message");
      if (event.kind === "text" || event.kind === "binary") {
        this.text += event.data.toString("utf8");
      } else if (event.kind === "ping" || event.kind === "pong") {
        continue;
      } else {
        throw new Error(`expected a hub message, got ${describe(event)}` + (this.text ? ` (unfinished text ${JSON.stringify(this.text)})` : ""));
      }
    }
  }

  /** The next record, parsed. */
  async nextJson(ms = 5000, options) {
    return JSON.parse(await this.nextRecord(ms, options));
  }

  /**
   * Waits for the server to end the connection. Resolves with
   * { close: {code, reason} | null, end: true, events: [...] } where events
   * are what came before the end (data messages, control frames).
   */
  async closed(ms = 5000) {
    const events = [];
    const deadline = Date.now() + ms;
    let close = this.closeFrame;
    if (!this.ended || this.events.length) {
      for (;;) {
        const event = await this.next(Math.max(1, deadline - Date.now()), "the server to close the connection");
        if (event.kind === "end") break;
        if (event.kind === "close") {
          close = { code: event.code, reason: event.reason };
          // Answer the close handshake as a client does, then wait for the TCP end.
          if (!this.closeSent) this.sendClose(event.code ?? 1000);
          continue;
        }
        events.push(event);
      }
    }
    return { close, end: true, events };
  }

  write(bytes) {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  send(opcode, payload, options) {
    this.write(frame(opcode, payload, options));
  }

  sendText(text, options) {
    this.send(OP.TEXT, text, options);
  }

  sendPing(payload = Buffer.alloc(0)) {
    this.send(OP.PING, payload);
  }

  sendClose(code = 1000, reason = "") {
    this.closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.send(OP.CLOSE, payload);
  }

  /** Sends the JSON handshake and checks the server's `{}` answer. */
  async handshake(protocol = "json", version = 1) {
    this.sendText(`{"protocol":"${protocol}","version":${version}}${RS}`);
    const answer = await this.nextRecord(5000);
    if (answer !== "{}") throw new Error(`handshake answered ${answer}`);
  }

  /** Sends one record per argument, each in its own text message. */
  sendRecords(...records) {
    for (const record of records) {
      this.sendText((typeof record === "string" ? record : JSON.stringify(record)) + RS);
    }
  }

  invoke(invocationId, target, args = []) {
    this.sendRecords({ type: 1, invocationId, target, arguments: args });
  }

  destroy() {
    this.socket?.destroy();
  }
}

function describe(event) {
  switch (event.kind) {
    case "close": return `a close frame (code ${event.code}, reason ${JSON.stringify(event.reason)})`;
    case "end": return "the end of the TCP connection";
    case "text": return `text ${JSON.stringify(event.data.toString("utf8"))}`;
    default: return event.kind;
  }
}

/**
 * Opens a raw WebSocket hub connection with a completed JSON handshake.
 * Tracked: destroyed after the test `t`.
 */
export async function rawHub(t, baseUrl, path, options = {}) {
  const ws = await RawWebSocket.connect(baseUrl, path, options);
  t.after(() => ws.destroy());
  await ws.handshake();
  return ws;
}

/**
 * Sends a WebSocket upgrade request with node:http and returns the answer
 * when it is not a 101: { status, headers, body }. A 101 is reported as
 * { status: 101 } and the socket closed.
 */
export async function upgradeAnswer(baseUrl, target, ms = 5000) {
  const { request } = await import("node:http");
  const url = new URL(baseUrl);
  const answer = new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      path: target,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64"),
      },
    });
    req.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode, headers: response.headers, body: "" });
    });
    req.on("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk) => { body += chunk; });
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
  return withTimeout(answer, ms, `the answer to the upgrade of ${target}`);
}
