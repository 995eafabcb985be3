// The desktop example, driven by the official SignalR client and by plain
// file operations on its folder: notes written through the hub or behind
// its back reach every client. Run by meson with HUBS_DESKTOP set to the
// built hubs-desktop program.

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, unlink, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import signalR from "@microsoft/signalr";
import { startExample, nextMessage } from "../example-process.mjs";

const program = process.env.HUBS_DESKTOP;
if (!program) throw new Error("HUBS_DESKTOP must name the hubs-desktop program");

const folder = await mkdtemp(join(tmpdir(), "hubs-desktop-test-"));
await writeFile(join(folder, "before.txt"), "here before the application");
await writeFile(join(folder, ".hidden"), "not a note");

const desktop = await startExample(program, ["--directory", folder], {
  name: "hubs-desktop",
  env: { G_DEBUG: "fatal-warnings" },
});
after(async () => {
  try {
    await desktop.stop();
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});

async function connect() {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${desktop.url}/notes`)
    .configureLogging(signalR.LogLevel.None)
    .build();
  await connection.start();
  return connection;
}

// The next NoteChanged(name, event) for `name`, skipping others.
function noteChanged(connection, name, event, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      connection.off("NoteChanged", handler);
      reject(new Error(`no NoteChanged(${name}, ${event}) within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`));
    }, timeoutMs);
    function handler(changedName, changedEvent) {
      seen.push([changedName, changedEvent]);
      if (changedName === name && changedEvent === event) {
        clearTimeout(timer);
        connection.off("NoteChanged", handler);
        resolve();
      }
    }
    connection.on("NoteChanged", handler);
  });
}

test("the notes already in the folder are listed, hidden files are not", async () => {
  const connection = await connect();
  try {
    assert.deepEqual(await connection.invoke("ListNotes"), ["before.txt"]);
    assert.equal(await connection.invoke("ReadNote", "before.txt"), "here before the application");
  } finally {
    await connection.stop();
  }
});

test("a file written by another program reaches every client", async () => {
  const alice = await connect();
  const bob = await connect();
  try {
    const atAlice = noteChanged(alice, "outside.txt", "created");
    const atBob = noteChanged(bob, "outside.txt", "created");
    await writeFile(join(folder, "outside.txt"), "written by node");
    await Promise.all([atAlice, atBob]);
    assert.deepEqual(await alice.invoke("ListNotes"), ["before.txt", "outside.txt"]);

    const changed = noteChanged(bob, "outside.txt", "changed");
    await writeFile(join(folder, "outside.txt"), "written again");
    await changed;
    assert.equal(await bob.invoke("ReadNote", "outside.txt"), "written again");

    const deleted = noteChanged(alice, "outside.txt", "deleted");
    await unlink(join(folder, "outside.txt"));
    await deleted;
    assert.deepEqual(await alice.invoke("ListNotes"), ["before.txt"]);
  } finally {
    await alice.stop();
    await bob.stop();
  }
});

test("notes written and deleted through the hub are files, and everyone hears of them", async () => {
  const writer = await connect();
  const reader = await connect();
  try {
    const created = noteChanged(reader, "shopping list", "created");
    assert.equal(await writer.invoke("WriteNote", "shopping list", "bread\nmilk ✓\n"), null);
    assert.equal(await readFile(join(folder, "shopping list"), "utf8"), "bread\nmilk ✓\n");
    await created;
    assert.equal(await reader.invoke("ReadNote", "shopping list"), "bread\nmilk ✓\n");

    // Saving over it writes a new file and renames it over the old one: a
    // change all the same, never a note deleted and created again.
    const events = [];
    const record = (name, event) => name === "shopping list" && events.push(event);
    reader.on("NoteChanged", record);
    const changed = noteChanged(reader, "shopping list", "changed");
    await writer.invoke("WriteNote", "shopping list", "bread\n");
    await changed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    reader.off("NoteChanged", record);
    assert.deepEqual([...new Set(events)], ["changed"]);
    assert.equal(await readFile(join(folder, "shopping list"), "utf8"), "bread\n");

    const deleted = noteChanged(reader, "shopping list", "deleted");
    await writer.invoke("DeleteNote", "shopping list");
    await deleted;
    await assert.rejects(access(join(folder, "shopping list")));
  } finally {
    await writer.stop();
    await reader.stop();
  }
});

test("names that are not notes, and notes that are not there, are the client's errors", async () => {
  const connection = await connect();
  try {
    for (const name of ["../escape", "", ".hidden", "a/b"]) {
      await assert.rejects(connection.invoke("ReadNote", name), {
        message: "An unexpected error occurred invoking 'ReadNote' on the server. " +
          "HubException: A note's name is a file name: not empty, no ‘/’, not starting with ‘.’",
      }, `ReadNote(${JSON.stringify(name)})`);
    }
    await assert.rejects(connection.invoke("WriteNote", "../escape", "x"), /HubException: A note's name/);
    await assert.rejects(connection.invoke("ReadNote", "missing"), {
      message: "An unexpected error occurred invoking 'ReadNote' on the server. " +
        "HubException: There is no note named missing",
    });
    await assert.rejects(connection.invoke("DeleteNote", "missing"), /HubException: There is no note named missing/);
    await assert.rejects(access(join(folder, "..", "escape")));
  } finally {
    await connection.stop();
  }
});

test("GetStatus tells the folder, the notes and the clients", async () => {
  const connection = await connect();
  try {
    const status = await connection.invoke("GetStatus");
    assert.equal(status.directory, folder);
    assert.equal(status.notes, 1);
    assert.ok(status.clients >= 1, "this client at least");
    assert.ok(status.uptimeSeconds > 0);
  } finally {
    await connection.stop();
  }
});
