// The chat example in a real browser: two headless Chromium pages load the
// page the example serves (index.html with the @microsoft/signalr browser
// bundle), chat, and a screenshot shows the messages.
//
// Run by meson with HUBS_CHAT set to the built hubs-chat program; Chromium
// is Debian's (/usr/bin/chromium), driven by playwright-core.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { startExample } from "../example-process.mjs";

const CHROMIUM = "/usr/bin/chromium";
const VIEWPORT = { width: 800, height: 600 };

const program = process.env.HUBS_CHAT;
if (!program) throw new Error("HUBS_CHAT must name the hubs-chat program");

// The pixels of a PNG as Chromium writes screenshots: 8-bit RGB or RGBA,
// not interlaced. Enough to look at a screenshot without another package.
function decodePng(buffer) {
  assert.equal(buffer.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "a PNG signature");
  let offset = 8;
  let header = null;
  const data = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString("latin1", offset + 4, offset + 8);
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      header = {
        width: body.readUInt32BE(0),
        height: body.readUInt32BE(4),
        bitDepth: body[8],
        colorType: body[9],
        interlace: body[12],
      };
    } else if (type === "IDAT") {
      data.push(body);
    } else if (type === "IEND") {
      break;
    }
    offset += 12 + length;
  }
  assert.ok(header, "a PNG header");
  assert.equal(header.bitDepth, 8);
  assert.equal(header.interlace, 0);
  const channels = { 2: 3, 6: 4 }[header.colorType];
  assert.ok(channels, `PNG colour type ${header.colorType} is RGB or RGBA`);

  const { width, height } = header;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  assert.equal(raw.length, height * (stride + 1), "the PNG's data fills its size");
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const previous = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = previous[x];
      const c = x >= channels ? previous[x - channels] : 0;
      let predicted;
      switch (filter) {
        case 0: predicted = 0; break;
        case 1: predicted = a; break;
        case 2: predicted = b; break;
        case 3: predicted = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`PNG filter ${filter} on line ${y}`);
      }
      out[x] = (line[x] + predicted) & 0xff;
    }
  }
  return {
    width,
    height,
    // Red, green, blue of a pixel.
    rgb(x, y) {
      const i = y * stride + x * channels;
      return [pixels[i], pixels[i + 1], pixels[i + 2]];
    },
  };
}

// What differs between two screenshots inside a rectangle, and how much of
// it is dark (text), in pixels.
function compareArea(before, after, box) {
  let changed = 0;
  let dark = 0;
  const x0 = Math.max(0, Math.floor(box.x));
  const y0 = Math.max(0, Math.floor(box.y));
  const x1 = Math.min(after.width, Math.ceil(box.x + box.width));
  const y1 = Math.min(after.height, Math.ceil(box.y + box.height));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const [r, g, b] = after.rgb(x, y);
      const [r0, g0, b0] = before.rgb(x, y);
      if (r !== r0 || g !== g0 || b !== b0) changed++;
      if (r + g + b < 3 * 128) dark++;
    }
  }
  return { changed, dark };
}

const chromiumMissing = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is not installed (Debian's chromium package: apt-get install chromium)`;

test("two browser pages chat through the example", { skip: chromiumMissing, timeout: 90_000 }, async () => {
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (error) {
    throw new Error(`playwright-core is missing: run build-aux/setup-deps (${error.message})`);
  }

  const chat = await startExample(program, [], { name: "hubs-chat" });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const pageErrors = [];
  try {
    // Two browser contexts: two people with nothing shared, as two windows
    // of two different browsers would be.
    async function openChat(name) {
      const context = await browser.newContext({ viewport: VIEWPORT });
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(`${name}: ${error.message}`));
      // Browsers ask for /favicon.ico, which the example does not serve;
      // any other failed request is an error of the page.
      page.on("response", (response) => {
        if (response.status() >= 400 && new URL(response.url()).pathname !== "/favicon.ico")
          pageErrors.push(`${name}: ${response.status()} for ${response.url()}`);
      });
      page.on("console", (message) => {
        if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
          pageErrors.push(`${name}: ${message.text()}`);
      });
      await page.goto(`${chat.url}/index.html`);
      await page.locator("#status").filter({ hasText: /^Connected$/ }).waitFor({ timeout: 15_000 });
      await page.fill("#user", name);
      return page;
    }

    async function say(page, text) {
      await page.fill("#message", text);
      await page.click("#send");
    }

    async function messagesOf(page, count) {
      await page.waitForFunction(
        (n) => document.querySelectorAll("#messages li").length >= n, count, { timeout: 10_000 });
      return page.locator("#messages li").allTextContents();
    }

    const alice = await openChat("alice");
    const bob = await openChat("bob");
    const emptyChat = decodePng(await bob.screenshot());

    await say(alice, "hello, bob ✓");
    assert.deepEqual(await messagesOf(bob, 1), ["alice: hello, bob ✓"]);
    await say(bob, "hi alice <b>not bold</b>");

    const expected = ["alice: hello, bob ✓", "bob: hi alice <b>not bold</b>"];
    assert.deepEqual(await messagesOf(alice, 2), expected, "alice sees both messages in order");
    assert.deepEqual(await messagesOf(bob, 2), expected, "bob sees both messages in order");
    // The page puts text, never markup, into the list.
    assert.equal(await bob.locator("#messages b").count(), 0);
    // The sender's field is cleared for the next message.
    assert.equal(await bob.inputValue("#message"), "");

    const box = await bob.locator("#messages").boundingBox();
    assert.ok(box && box.height > 0, "the message list takes room on the page");
    const fullChat = decodePng(await bob.screenshot());
    assert.deepEqual([fullChat.width, fullChat.height], [VIEWPORT.width, VIEWPORT.height],
      "the screenshot is the page's size");
    const { changed, dark } = compareArea(emptyChat, fullChat, box);
    // Two lines of text: hundreds of pixels, whatever the fonts. Not
    // compared pixel for pixel with a reference, which fonts would break.
    assert.ok(changed > 200, `the message area changed (${changed} pixels)`);
    assert.ok(dark > 100, `the message area shows text (${dark} dark pixels)`);

    assert.deepEqual(pageErrors, [], "no errors in the pages");
  } finally {
    await browser.close();
    await chat.stop();
  }
});
