#!/usr/bin/env node
// Oracle for the Socket.IO packet decoder: runs the official socket.io-parser over a corpus.
// Usage: NODE_PATH=/usr/share/nodejs node sio-oracle.js corpus.jsonl
// Input: one JSON string per line (the packet text after the Engine.IO "4").
// Output: one JSON object per line, in the same order:
//   {"ok":true,"type":2,"nsp":"/","id":null,"attachments":null,"data":[...]}   ("data" absent if none)
//   {"ok":false,"error":"<message>"}
"use strict";
const fs = require("fs");
const { Decoder } = require("socket.io-parser");

const lines = fs.readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.length > 0);
const out = [];
for (const line of lines) {
  const text = JSON.parse(line);
  let result;
  try {
    // decodeString is the whole text-packet path of Decoder.add, without the binary buffering.
    const p = new Decoder().decodeString(text);
    result = { ok: true, type: p.type, nsp: p.nsp, id: p.id === undefined ? null : p.id,
               attachments: p.attachments === undefined ? null : p.attachments };
    if (p.data !== undefined) result.data = p.data;
  } catch (e) {
    result = { ok: false, error: String(e && e.message) };
  }
  out.push(JSON.stringify(result));
}
process.stdout.write(out.join("\n") + "\n");
