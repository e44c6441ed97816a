/**
 * ABCI socket framing (CometBFT ≥ v0.37): every message is
 *
 *     uvarint(N) ++ N bytes of protobuf
 *
 * where uvarint is the unsigned base-128 varint of protobuf / Go's
 * binary.PutUvarint (NOT the zig-zag signed varint of Tendermint v0.34).
 */

/** Most bytes a uvarint of a 64-bit value can take (Go's binary.MaxVarintLen64). */
export const MAX_VARINT_BYTES = 10;

/** Default cap on one frame's body: covers any block up to CometBFT's 100 MiB hard cap plus its commit info. */
export const DEFAULT_MAX_FRAME_BYTES = 128 * 1024 * 1024;

/** The byte stream cannot be parsed any further: the connection must be closed. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

/** Bytes uvarint(n) takes. */
export function uvarintSize(n: number): number {
  let len = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 128)) len++;
  return len;
}

/** Write uvarint(n) into `out` at `off`; returns the offset after it. */
export function putUvarint(out: Uint8Array, off: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`uvarint of ${n}`);
  let v = n;
  while (v >= 0x80) {
    out[off++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[off++] = v;
  return off;
}

/** One frame: uvarint(body.length) ++ body (copies). */
export function encodeFrame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(uvarintSize(body.length) + body.length);
  const off = putUvarint(out, 0, body.length);
  out.set(body, off);
  return out;
}

/**
 * Read a uvarint at `off`. Returns [value, bytesUsed], or null when the bytes
 * end before the varint does. Throws FrameError on a varint longer than 10
 * bytes or one that overflows 64 bits (Go's binary.ReadUvarint rule).
 * Values above 2^53 lose precision, which is harmless: they are far above
 * any frame limit and only ever compared against it.
 */
export function readUvarint(b: Uint8Array, off: number): [number, number] | null {
  let v = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (off + i >= b.length) return null;
    const byte = b[off + i]!;
    // The 10th byte may only carry bit 63; anything more (including a continuation bit) is an overflow.
    if (i === MAX_VARINT_BYTES - 1 && byte > 1) throw new FrameError(`length prefix is not a valid uvarint (longer than ${MAX_VARINT_BYTES} bytes or over 64 bits)`);
    v += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return [v, i + 1];
  }
  /* c8 ignore next */
  throw new FrameError('unreachable: the 10th byte check ends every varint');
}

const EMPTY = Buffer.alloc(0);

/**
 * Incremental frame decoder over a byte stream. Feed it socket chunks with
 * push(); it calls onFrame with each complete body (a view into the received
 * bytes, not a copy), in order.
 *
 * A length prefix above maxFrameBytes is refused as soon as the prefix is
 * read, before any of the body is buffered. A frame whose body is still
 * arriving is kept as a list of chunks and joined once, so a 100 MB frame
 * costs one copy, not one per chunk.
 */
export class FrameDecoder {
  /** Unparsed bytes (the start of the next frame), when no frame body is being collected. */
  private buf: Buffer = EMPTY;
  /** A frame whose header is known but whose body is incomplete: its chunks so far. */
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Header + body bytes of the frame being collected in `parts` (0: none). */
  private want = 0;

  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  }

  /** Bytes received but not yet returned as a frame (a partial frame at EOF means truncation). */
  get pendingBytes(): number {
    return this.want > 0 ? this.partBytes : this.buf.length;
  }

  /** Throws FrameError when the stream is malformed; the decoder is then unusable. */
  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    let buf: Buffer;
    if (this.want > 0) {
      this.parts.push(chunk);
      this.partBytes += chunk.length;
      if (this.partBytes < this.want) return;
      buf = Buffer.concat(this.parts, this.partBytes);
      this.parts = [];
      this.partBytes = 0;
      this.want = 0;
    } else {
      buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    }
    let off = 0;
    for (;;) {
      const h = readUvarint(buf, off);
      if (h === null) break;
      const [len, n] = h;
      if (len > this.maxFrameBytes) throw new FrameError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
      const end = off + n + len;
      if (end > buf.length) {
        // Body incomplete: collect chunks until it is all here.
        const rest = buf.subarray(off);
        this.parts = [rest];
        this.partBytes = rest.length;
        this.want = n + len;
        this.buf = EMPTY;
        return;
      }
      onFrame(buf.subarray(off + n, end));
      off = end;
    }
    this.buf = off < buf.length ? buf.subarray(off) : EMPTY;
  }
}
