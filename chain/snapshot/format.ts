import { hash } from 'node:crypto';
import { GROUPS } from '../store/merkle.js';

/**
 * State-sync snapshot format 1: the whole committed state at one height, as
 * its (key, value) entries in (bucket, key) order, cut into chunks; the
 * bucket is the app-hash tree's (merkle.ts bucketOf).
 *
 *   chunk    = entry*            entries never span chunks
 *   entry    = u16be(len key) ‖ key (latin1) ‖ u32be(len value) ‖ value
 *   metadata = u8(1) ‖ u16be(len chain_id) ‖ chain_id ‖ u64be(initial_height) ‖ u32be(n)
 *              ‖ sha256(chunk₀) ‖ … ‖ sha256(chunkₙ₋₁) ‖ group₀ ‖ … ‖ group₄₀₉₅
 *   hash     = sha256(metadata)
 *
 * groupᵢ is the tree's depth-3 node i (over buckets 16i … 16i+15). Their
 * root must be the app hash CometBFT's light client trusts, which the
 * restoring node checks before it downloads anything; then each group's
 * entries are checked against its hash as soon as the group is complete, so
 * a peer's forged entries are caught within a group, never only at the end.
 * A chunk is closed before the entry that would take it past the chunk size
 * (an entry larger than that gets a chunk of its own), so every node that
 * snapshots the same height produces the same chunks, metadata and hash, and
 * CometBFT can fetch one snapshot's chunks from several peers. No Merkle
 * leaves travel: the restoring node hashes every entry itself.
 */
export const SNAPSHOT_FORMAT = 1;
/** Target chunk size (CometBFT carries chunks of up to 16 MB). */
export const CHUNK_BYTES = 4 * 2 ** 20;
/** CometBFT sends snapshot metadata of at most 4 MB between peers. */
export const MAX_METADATA_BYTES = 4 * 2 ** 20;
const METADATA_VERSION = 1;

export class SnapshotFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotFormatError';
  }
}

export interface SnapshotMeta {
  chainId: string;
  initialHeight: bigint;
  /** sha256 of each chunk, in order. */
  chunkHashes: Buffer[];
  /** The tree's depth-3 node hashes, GROUPS × 32 bytes in order. */
  groupHashes: Buffer;
}

export function sha256(b: Uint8Array): Buffer {
  return hash('sha256', b, 'buffer') as Buffer;
}

export function encodeMetadata(m: SnapshotMeta): Buffer {
  const chain = Buffer.from(m.chainId, 'utf8');
  if (chain.length > 0xffff) throw new SnapshotFormatError('chain id longer than 65,535 bytes');
  if (m.groupHashes.length !== GROUPS * 32) throw new SnapshotFormatError(`${m.groupHashes.length} bytes of group hashes, expected ${GROUPS * 32}`);
  const out = Buffer.alloc(1 + 2 + chain.length + 8 + 4 + 32 * m.chunkHashes.length + GROUPS * 32);
  let o = out.writeUInt8(METADATA_VERSION, 0);
  o = out.writeUInt16BE(chain.length, o);
  o += chain.copy(out, o);
  o = out.writeBigUInt64BE(m.initialHeight, o);
  o = out.writeUInt32BE(m.chunkHashes.length, o);
  for (const h of m.chunkHashes) o += h.copy(out, o);
  m.groupHashes.copy(out, o);
  return out;
}

/** Throws SnapshotFormatError on anything but well-formed metadata (it comes from an untrusted peer). */
export function decodeMetadata(b: Uint8Array): SnapshotMeta {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length > MAX_METADATA_BYTES) throw new SnapshotFormatError(`metadata of ${buf.length} bytes (limit ${MAX_METADATA_BYTES})`);
  if (buf.length < 1 + 2 + 8 + 4) throw new SnapshotFormatError(`metadata of ${buf.length} bytes is too short`);
  if (buf[0] !== METADATA_VERSION) throw new SnapshotFormatError(`metadata version ${buf[0]}, expected ${METADATA_VERSION}`);
  const clen = buf.readUInt16BE(1);
  let o = 3;
  if (o + clen + 12 > buf.length) throw new SnapshotFormatError('metadata is cut short in its chain id');
  const chainId = buf.toString('utf8', o, o + clen);
  o += clen;
  const initialHeight = buf.readBigUInt64BE(o);
  o += 8;
  const n = buf.readUInt32BE(o);
  o += 4;
  if (buf.length !== o + 32 * n + GROUPS * 32) throw new SnapshotFormatError(`metadata lists ${n} chunks, so it should hold ${32 * n + GROUPS * 32} bytes of chunk and group hashes, not ${buf.length - o}`);
  const chunkHashes: Buffer[] = [];
  for (let i = 0; i < n; i++) chunkHashes.push(Buffer.from(buf.subarray(o + 32 * i, o + 32 * i + 32)));
  const groupHashes = Buffer.from(buf.subarray(o + 32 * n));
  return { chainId, initialHeight, chunkHashes, groupHashes };
}

/**
 * Cuts an entry stream into chunks; see the module comment. Entries are
 * written in place into one buffer that is reused for every chunk: a
 * snapshot of millions of entries then makes one allocation per chunk, not
 * one per entry (short-lived Buffers are off-heap memory, and their churn
 * made V8 run full, non-incremental collections of the node's heap).
 */
export class ChunkWriter {
  private buf: Buffer;
  private size = 0;

  constructor(private readonly chunkBytes = CHUNK_BYTES) {
    this.buf = Buffer.allocUnsafeSlow(Math.min(chunkBytes, 64 * 2 ** 20));
  }

  /** Add an entry; returns the chunk it closed, if adding it closed one. */
  add(key: string, value: Uint8Array): Buffer | undefined {
    const n = 2 + key.length + 4 + value.length;
    let closed: Buffer | undefined;
    if (this.size > 0 && this.size + n > this.chunkBytes) closed = this.take();
    if (this.size + n > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buf.length, this.size + n));
      this.buf.copy(bigger, 0, 0, this.size);
      this.buf = bigger;
    }
    let o = this.buf.writeUInt16BE(key.length, this.size);
    o += this.buf.write(key, o, 'latin1');
    o = this.buf.writeUInt32BE(value.length, o);
    this.buf.set(value, o);
    this.size = o + value.length;
    return closed;
  }

  /** The last chunk (undefined when nothing is pending). */
  finish(): Buffer | undefined {
    return this.size > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    const c = Buffer.from(this.buf.subarray(0, this.size));
    this.size = 0;
    return c;
  }
}

/**
 * Reads a chunk one entry at a time, so a peer's chunk is checked entry by entry as it is read: decoding a
 * forged chunk whole first (up to 16 MB of 6-byte entries: millions of objects) cost over a gigabyte and
 * seconds before its first entry was looked at. Values are views into `buf`.
 */
export class ChunkReader {
  private o = 0;
  /** Entries read so far. */
  count = 0;

  constructor(private readonly buf: Buffer) {}

  /** The next entry, or undefined at the end. Throws SnapshotFormatError when the chunk does not parse. */
  next(): [string, Buffer] | undefined {
    const buf = this.buf;
    let o = this.o;
    if (o >= buf.length) return undefined;
    if (o + 2 > buf.length) throw new SnapshotFormatError(`entry ${this.count} is cut short in its key length`);
    const kl = buf.readUInt16BE(o);
    o += 2;
    if (o + kl + 4 > buf.length) throw new SnapshotFormatError(`entry ${this.count} is cut short in its key`);
    const key = buf.toString('latin1', o, o + kl);
    o += kl;
    const vl = buf.readUInt32BE(o);
    o += 4;
    if (o + vl > buf.length) throw new SnapshotFormatError(`entry ${this.count} ("${key.slice(0, 60)}") is cut short in its value`);
    this.o = o + vl;
    this.count++;
    return [key, buf.subarray(o, o + vl)];
  }

  /** Bytes of the first entry (its whole encoding), or undefined when the chunk is too short to say. */
  static firstEntryBytes(b: Uint8Array): number | undefined {
    if (b.length < 2) return undefined;
    const kl = (b[0]! << 8) | b[1]!;
    if (b.length < 2 + kl + 4) return undefined;
    const at = 2 + kl;
    const vl = ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
    return 2 + kl + 4 + vl;
  }
}
