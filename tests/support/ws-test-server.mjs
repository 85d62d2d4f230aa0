// A WebSocket server that plays Dash peers for the browser transport tests
// (wasm-pack test). Paths choose the behaviour:
//   /peer     a well-behaved peer: answers version with version+verack, then
//             sends 3 headers messages, splitting and merging frames;
//   /garbage  sends bytes that are no Dash message at all.
//   /restart  closes every socket and the server, which listens again after
//             RESTART_MS (a peer restarting).
// Run: node ws-test-server.mjs PORT
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { frame, parse, versionPayload, headersPayload } from './dash-wire.mjs';

const port = Number(process.argv[2] ?? 18546);
const RESTART_MS = 700;
let wss = null;
let http = null;

function chunked(ws, bytes) {
  // Frames of 1, 7, 24, 100… bytes: messages split across frames.
  const sizes = [1, 7, 24, 100, 5, 333];
  let offset = 0;
  for (let i = 0; offset < bytes.length; i += 1) {
    const size = sizes[i % sizes.length];
    ws.send(bytes.subarray(offset, offset + size));
    offset += size;
  }
}

function peer(ws) {
  let buffer = Buffer.alloc(0);
  ws.on('message', (data) => {
    buffer = Buffer.concat([buffer, data]);
    const { messages, rest } = parse(buffer);
    buffer = rest;
    for (const { command } of messages) {
      if (command === 'version') {
        chunked(ws, Buffer.concat([frame('version', versionPayload(898563)), frame('sendaddrv2'), frame('verack')]));
        // Three headers messages merged into one frame.
        const headers = frame('headers', headersPayload(1));
        ws.send(Buffer.concat([headers, headers, headers]));
      }
      if (command === 'ping') ws.send(frame('pong', Buffer.alloc(8)));
    }
  });
}

function listen() {
  http = createServer();
  wss = new WebSocketServer({ server: http });
  wss.on('connection', (ws, req) => {
    if (req.url.startsWith('/garbage')) ws.send(Buffer.from('HTTP/1.1 200 OK\r\n\r\nthis is not dash'));
    else if (req.url.startsWith('/restart')) restart();
    else peer(ws);
  });
  http.listen(port, '127.0.0.1');
}

function restart() {
  for (const client of wss.clients) client.terminate();
  wss.close();
  http.close();
  http.closeAllConnections();
  setTimeout(listen, RESTART_MS);
}

listen();
console.log(`ws test server on ${port}`);
