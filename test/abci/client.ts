/**
 * The CometBFT side of the ABCI socket, for tests: an independent codec
 * (cosmjs-types' tendermint.abci, not our generated protobufjs bundle) and an
 * independent framer, over a real TCP or unix socket.
 */
import { connect, type Socket } from 'node:net';
import { Request, Response, CheckTxType } from 'cosmjs-types/tendermint/abci/types';
import type { DeepPartial, Exact } from 'cosmjs-types/helpers';

/** Unsigned LEB128, written here independently of the server's framing code. */
export function uvarint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

export function frame(body: Uint8Array): Buffer {
  return Buffer.concat([uvarint(body.length), body]);
}

export function encodeRequest<I extends Exact<DeepPartial<Request>, I>>(req: I): Buffer {
  return frame(Request.encode(Request.fromPartial(req)).finish());
}

export type ResponseKind = Exclude<keyof Response, never>;

/** Which oneof member a Response carries. */
export function kindOf(r: Response): string {
  for (const [k, v] of Object.entries(r)) if (v !== undefined) return k;
  return '(empty)';
}

export class AbciTestClient {
  private buf = Buffer.alloc(0);
  private readonly responses: Response[] = [];
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        let len = 0;
        let shift = 1;
        let i = 0;
        let complete = false;
        for (; i < this.buf.length && i < 10; i++) {
          const b = this.buf[i]!;
          len += (b & 0x7f) * shift;
          shift *= 128;
          if (b < 0x80) {
            complete = true;
            break;
          }
        }
        if (!complete || this.buf.length < i + 1 + len) break;
        this.responses.push(Response.decode(this.buf.subarray(i + 1, i + 1 + len)));
        this.buf = this.buf.subarray(i + 1 + len);
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedFlag = true;
        this.wake();
        resolve();
      }),
    );
  }

  static connect(addr: string): Promise<AbciTestClient> {
    return new Promise((resolve, reject) => {
      const s = addr.startsWith('unix://') ? connect(addr.slice('unix://'.length)) : connect(Number(addr.split(':').pop()), addr.replace(/^tcp:\/\//, '').replace(/:\d+$/, ''));
      s.once('connect', () => resolve(new AbciTestClient(s)));
      s.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get buffered(): number {
    return this.responses.length;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Write raw bytes (resolves when handed to the kernel). */
  writeRaw(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (e) => (e ? reject(e) : resolve())));
  }

  send<I extends Exact<DeepPartial<Request>, I>>(req: I): Promise<void> {
    return this.writeRaw(encodeRequest(req));
  }

  /** Next response in arrival order; rejects if the socket closes first. */
  async next(timeoutMs = 20_000): Promise<Response> {
    const deadline = Date.now() + timeoutMs;
    while (this.responses.length === 0) {
      if (this.closedFlag) throw new Error('connection closed before a response arrived');
      if (Date.now() > deadline) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.responses.shift()!;
  }

  async nextN(n: number, timeoutMs = 30_000): Promise<Response[]> {
    const out: Response[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** What CometBFT does for a synchronous call: the request, a Flush, then both answers. */
  async call<I extends Exact<DeepPartial<Request>, I>>(req: I): Promise<Response> {
    await this.writeRaw(Buffer.concat([encodeRequest(req), encodeRequest({ flush: {} })]));
    const res = await this.next();
    const flush = await this.next();
    if (res.exception) throw new Error(`exception: ${res.exception.error}`);
    if (!flush.flush) throw new Error(`expected ResponseFlush, got ${kindOf(flush)}`);
    return res;
  }

  /** A call that may legitimately answer with an exception. */
  async callRaw<I extends Exact<DeepPartial<Request>, I>>(req: I): Promise<Response> {
    await this.send(req);
    return this.next();
  }

  checkTxAsync(tx: Uint8Array, recheck = false): Promise<void> {
    return this.send({ checkTx: { tx, type: recheck ? CheckTxType.RECHECK : CheckTxType.NEW } });
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
