// Minimal Dash P2P framing in JavaScript, for test servers that play a peer.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TESTNET_MAGIC = Buffer.from([0xce, 0xe2, 0xca, 0xff]);
export const fixtures = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));

const sha256d = (bytes) => createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest();

/** A framed message: magic, command, length, checksum, payload. */
export function frame(command, payload = Buffer.alloc(0)) {
  const header = Buffer.alloc(24);
  TESTNET_MAGIC.copy(header, 0);
  header.write(command, 4, 'ascii');
  header.writeUInt32LE(payload.length, 16);
  sha256d(payload).copy(header, 20, 0, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into complete messages [{command, payload}], returning the rest. */
export function parse(buffer) {
  const messages = [];
  let offset = 0;
  while (buffer.length - offset >= 24) {
    const length = buffer.readUInt32LE(offset + 16);
    if (buffer.length - offset < 24 + length) break;
    const command = buffer.toString('ascii', offset + 4, offset + 16).replace(/\0+$/, '');
    messages.push({ command, payload: buffer.subarray(offset + 24, offset + 24 + length) });
    offset += 24 + length;
  }
  return { messages, rest: buffer.subarray(offset) };
}

/** A `version` payload as dashd sends it (protocol 70230, height `height`). */
export function versionPayload(height) {
  const p = Buffer.alloc(4 + 8 + 8 + 26 + 26 + 8 + 1 + 4 + 1);
  let o = 0;
  o = p.writeInt32LE(70230, o);
  o = p.writeBigUInt64LE(5n, o);
  o = p.writeBigInt64LE(BigInt(Math.floor(Date.now() / 1000)), o);
  o += 26 + 26;
  o = p.writeBigUInt64LE(42n, o);
  o = p.writeUInt8(0, o);
  o = p.writeInt32LE(height, o);
  p.writeUInt8(1, o);
  return p;
}

/** `count` real testnet headers from height 898560 as a `headers` payload. */
export function headersPayload(count) {
  const file = readFileSync(`${fixtures}testnet/headers/testnet_headers_898560_947248.bin`);
  const parts = [Buffer.from([count])];
  for (let i = 0; i < count; i += 1) parts.push(file.subarray(i * 80, i * 80 + 80), Buffer.from([0]));
  return Buffer.concat(parts);
}
