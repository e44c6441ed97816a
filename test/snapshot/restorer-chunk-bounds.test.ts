import { describe, expect, it } from 'vitest';
import { SnapshotRestorer } from '../../chain/snapshot/restorer.js';
import { CHUNK_BYTES, ChunkWriter, encodeMetadata, sha256 } from '../../chain/snapshot/format.js';
import { GROUPS, bucketOf, groupHash, groupOf, leafHash, rootOfGroups } from '../../chain/store/merkle.js';

/**
 * A peer controls a snapshot's chunks and the chunk hashes in its metadata (only the group hashes must add
 * up to the trusted app hash). A chunk is checked entry by entry as it is read: a forged chunk of millions
 * of tiny entries must be refused at its first bad entry (or, past CHUNK_BYTES, before it is read), not after
 * the whole chunk has been decoded and hashed (16 MB of 6-byte entries took 11 s and 1.2 GB).
 */
const CHAIN = 'bounds-chain';

/** A state of the given entries: its group hashes and app hash. */
function stateOf(entries: Array<[string, Uint8Array]>) {
  const groups = Buffer.alloc(GROUPS * 32);
  const byGroup = new Map<number, Array<[string, Uint8Array]>>();
  for (const [k, v] of entries) {
    const g = groupOf(bucketOf(k));
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push([k, leafHash(k, v)]);
  }
  for (const [g, l] of byGroup) {
    l.sort((x, y) => bucketOf(x[0]) - bucketOf(y[0]) || (x[0] < y[0] ? -1 : 1));
    groupHash(g, l).copy(groups, g * 32);
  }
  return { groups, appHash: rootOfGroups(groups) };
}

function offered(chunks: Buffer[], groups: Buffer, appHash: Buffer): SnapshotRestorer {
  const metadata = encodeMetadata({ chainId: CHAIN, initialHeight: 1n, chunkHashes: chunks.map(sha256), groupHashes: groups });
  const r = new SnapshotRestorer();
  const o = r.offer({ height: 5n, format: 1, chunks: chunks.length, hash: sha256(metadata), metadata }, appHash, { appHeight: 0n, chainId: CHAIN });
  expect(o.result).toBe('accept');
  return r;
}

describe('snapshot chunks are checked as they are read', () => {
  const honest = stateOf([['bank/bal/x', Buffer.from('1')]]);

  it('a chunk past CHUNK_BYTES that is not a single entry is refused before it is read', () => {
    const chunk = Buffer.alloc(Math.floor(15_900_000 / 6) * 6); // 6-byte entries: empty key, empty value
    const r = offered([chunk], honest.groups, honest.appHash);
    const t = performance.now();
    const out = r.apply(0, chunk, 'liar');
    expect(out).toMatchObject({ result: 'reject_snapshot', rejectSenders: ['liar'], reason: expect.stringMatching(/more than 4194304, and is not a single entry/) });
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('a chunk is refused at its first bad entry, not after every entry of it was decoded and hashed', () => {
    const chunk = Buffer.alloc(Math.floor(CHUNK_BYTES / 6) * 6); // ~700,000 entries of an empty key
    const r = offered([chunk], honest.groups, honest.appHash);
    const t = performance.now();
    expect(r.apply(0, chunk, 'liar')).toMatchObject({ result: 'reject_snapshot', reason: expect.stringMatching(/chunk 0: "" is not a store key/) });
    expect(performance.now() - t).toBeLessThan(500);
  });

  it('an empty chunk is refused (format 1 never writes one; a peer could list 127,000 of them)', () => {
    const empty = Buffer.alloc(0);
    const r = offered([empty, empty, empty], honest.groups, honest.appHash);
    expect(r.apply(0, empty, 'liar')).toMatchObject({ result: 'reject_snapshot', reason: 'chunk 0 is empty', rejectSenders: ['liar'] });
  });

  it('an honest entry larger than CHUNK_BYTES, in a chunk of its own, restores', () => {
    const big: Array<[string, Uint8Array]> = [
      ['bank/bal/big', Buffer.alloc(CHUNK_BYTES + 10, 7)],
      ['bank/bal/small', Buffer.from('2')],
    ];
    const s = stateOf(big);
    const sorted = [...big].sort((x, y) => bucketOf(x[0]) - bucketOf(y[0]) || (x[0] < y[0] ? -1 : 1));
    const cut = new ChunkWriter();
    const chunks: Buffer[] = [];
    for (const [k, v] of sorted) {
      const c = cut.add(k, v);
      if (c) chunks.push(c);
    }
    chunks.push(cut.finish()!);
    expect(chunks.length).toBe(2);
    const r = offered(chunks, s.groups, s.appHash);
    expect(r.apply(0, chunks[0]!, 'p').result).toBe('accept');
    const last = r.apply(1, chunks[1]!, 'p');
    expect(last.result).toBe('accept');
    expect(last.restored?.entries.length).toBe(2);
    expect(Buffer.from(last.restored!.appHash).equals(s.appHash)).toBe(true);
  });
});
