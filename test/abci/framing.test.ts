/** Unit tests of the ABCI framing: unsigned varints and the incremental frame decoder. */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, encodeFrame, putUvarint, readUvarint, uvarintSize } from '../../chain/abci/framing.js';
import { uvarint } from './client.js';

describe('uvarint', () => {
  it('is the unsigned LEB128 of protobuf / Go binary.PutUvarint (not v0.34 zig-zag)', () => {
    expect(encodeFrame(Buffer.alloc(300)).subarray(0, 2)).toEqual(Buffer.from([0xac, 0x02])); // 0xD8 0x04 would be zig-zag
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 21, 2 ** 31 - 1, 2 ** 32, 2 ** 53 - 1]) {
      const mine = Buffer.alloc(10);
      const end = putUvarint(mine, 0, n);
      expect(mine.subarray(0, end)).toEqual(uvarint(n)); // the test client's independent encoder
      expect(uvarintSize(n)).toBe(end);
      expect(readUvarint(mine, 0)).toEqual([n, end]);
    }
  });

  it('needs more bytes for an unfinished varint; rejects one longer than 10 bytes or over 64 bits', () => {
    expect(readUvarint(Buffer.from([0x80, 0x80]), 0)).toBeNull();
    expect(() => readUvarint(Buffer.alloc(11, 0x80), 0)).toThrow(FrameError);
    expect(() => readUvarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), 0)).toThrow(/over 64 bits/);
    // 2^64 − 1 is a valid uvarint (then far above any frame limit).
    expect(readUvarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0)![1]).toBe(10);
  });
});

describe('FrameDecoder', () => {
  const bodies = [Buffer.alloc(0), Buffer.from('a'), Buffer.alloc(127, 2), Buffer.alloc(128, 3), Buffer.alloc(70_000, 4), Buffer.from('end')];
  const stream = Buffer.concat(bodies.map((x) => encodeFrame(x)));

  function decodeInChunks(sizes: (i: number) => number): Buffer[] {
    const d = new FrameDecoder(1 << 20);
    const out: Buffer[] = [];
    let off = 0;
    for (let i = 0; off < stream.length; i++) {
      const n = Math.max(1, sizes(i));
      d.push(stream.subarray(off, off + n), (f) => out.push(Buffer.from(f)));
      off += n;
    }
    expect(d.pendingBytes).toBe(0);
    return out;
  }

  it('gives the same frames whatever the chunking', () => {
    expect(decodeInChunks(() => stream.length)).toEqual(bodies);
    expect(decodeInChunks(() => 1)).toEqual(bodies);
    expect(decodeInChunks((i) => (i * 7919) % 1000)).toEqual(bodies);
    expect(decodeInChunks((i) => 65_536 + i)).toEqual(bodies);
  });

  it('keeps a partial frame pending (EOF then means truncation)', () => {
    const d = new FrameDecoder();
    const got: Buffer[] = [];
    d.push(Buffer.concat([encodeFrame(Buffer.from('x')), uvarint(10), Buffer.from('abc')]), (f) => got.push(f));
    expect(got.map(String)).toEqual(['x']);
    expect(d.pendingBytes).toBe(1 + 3);
  });

  it('refuses a length prefix over the limit as soon as the prefix is complete', () => {
    const d = new FrameDecoder(1000);
    expect(() => d.push(uvarint(1001), () => undefined)).toThrow(/exceeds the limit of 1000 bytes/);
    const ok = new FrameDecoder(1000);
    const got: Buffer[] = [];
    ok.push(encodeFrame(Buffer.alloc(1000)), (f) => got.push(f));
    expect(got[0]!.length).toBe(1000);
  });
});
