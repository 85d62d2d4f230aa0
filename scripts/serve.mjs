// A small static file server for the dev page: serves www/ at / and the
// client package at /pkg/ and /js/ (and more folders if asked, for the
// benchmark page). Run: node scripts/serve.mjs [port]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
};

function resolve(urlPath, mounts) {
  const path = normalize(decodeURIComponent(urlPath.split('?')[0]));
  if (path.includes('..')) return null;
  for (const [prefix, dir] of Object.entries(mounts)) {
    if (path.startsWith(prefix)) return join(dir, path.slice(prefix.length));
  }
  if (path.startsWith('/pkg/') || path.startsWith('/js/')) return join(root, path);
  return join(root, 'www', path === '/' ? 'index.html' : path);
}

/**
 * Starts the server on 127.0.0.1:`port` (0 picks a free port); `mounts`
 * maps more URL prefixes (`/bench/`) to folders.
 * @param {number} [port]
 * @param {Record<string, string>} [mounts]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startServer(port = 0, mounts = {}) {
  const server = createServer(async (req, res) => {
    const file = resolve(req.url ?? '/', mounts);
    if (!file) { res.writeHead(400).end(); return; }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolvePromise) => {
    server.listen(port, '127.0.0.1', () => {
      resolvePromise({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startServer(Number(process.argv[2] ?? process.env.PORT ?? 8080));
  console.log(`dev page: ${url}`);
}
