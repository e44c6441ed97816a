/**
 * One ABCI socket connection: an always-on reader that decodes frames into a
 * FIFO queue, and one async worker that answers the queue in order.
 *
 *   socket 'data' ─> FrameDecoder ─> Request.decode ─> queue ─> worker ─> App (under the AppLock)
 *                                                                   └─> Writer (batched) ─> socket.write
 *
 * The reader never pauses the socket for the worker, whatever the worker is
 * doing (waiting on the App must not stop the peer's requests from being
 * read: CometBFT's #9030 deadlock). It pauses only while the peer is not
 * reading its responses (more than OUT_HIGH_WATER bytes unsent on the
 * socket) and resumes when they drain: a peer that never reads cannot make
 * the server buffer without bound. CometBFT reads responses on a goroutine
 * of its own, so it never meets this pause.
 * Responses (complete frames) are collected and handed to the socket in one
 * write when a Flush is answered, before the worker waits on anything, when the
 * queue runs dry, and every MAX_OUT_BYTES; so a response is never held back
 * while the worker idles, and a Flush response always follows every earlier
 * response on the wire.
 */
import type { Socket } from 'node:net';
import { tendermint } from '../../proto/gen/tendermint.js';
import { encodeResponseFrame } from './encode.js';
import { FrameDecoder, FrameError } from './framing.js';
import { BadRequestError, type AbciHandler, type AbciLogger } from './handler.js';
import { isPromise, type AppLock } from './lock.js';

import abci = tendermint.abci;

/** Hand buffered responses to the socket once this many bytes are pending. */
const MAX_OUT_BYTES = 1 << 20;
/** Unsent response bytes on the socket beyond which the reader pauses until they drain. */
const OUT_HIGH_WATER = 64 << 20;
/** Let the event loop run (socket reads and writes) after this many requests in one go. */
const YIELD_EVERY = 256;
/** Pipelined CheckTx requests fewer than this are not worth a parallel signature prefetch. */
const MIN_PREFETCH_BATCH = 32;
/** At most this many CheckTx requests per prefetch. */
const MAX_PREFETCH_BATCH = 8192;
/** At most this many event-loop turns spent waiting for the rest of a CheckTx burst. */
const MAX_WAIT_TURNS = 64;

interface Item {
  req?: abci.Request;
  /** Answer with an exception instead of calling the App. */
  error?: Error;
  /** After answering `error`, close the connection (the byte stream is unusable). */
  fatal?: boolean;
  /** The peer closed its side: finish the connection once everything before is answered. */
  end?: boolean;
  /** Signature already submitted to a prefetch batch. */
  prefetched?: boolean;
}

export interface ConnectionContext {
  handler: AbciHandler;
  lock: AppLock;
  log: AbciLogger;
  maxFrameBytes: number;
  /** Prefetch signatures of pipelined CheckTx batches on the App's verify pool. */
  prefetchCheckTx: boolean;
}

const setImmediateP = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AbciConnection {
  private readonly decoder: FrameDecoder;
  private queue: Array<Item | undefined> = [];
  private head = 0;
  /** Encoded response frames not yet handed to the socket. */
  private out: Buffer[] = [];
  private outBytes = 0;
  private running = false;
  /** No more input is accepted (malformed stream or EOF). */
  private inputClosed = false;
  /** The socket is gone or being closed: stop answering. */
  private closed = false;
  private requests = 0;
  private readonly closedPromise: Promise<void>;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly ctx: ConnectionContext,
  ) {
    this.decoder = new FrameDecoder(ctx.maxFrameBytes);
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (e: Error) => ctx.log('warn', `${this.label}: socket error: ${e.message}`));
    socket.on('close', () => {
      this.closed = true;
      this.queue = [];
      this.head = 0;
      ctx.log('info', `${this.label}: closed after ${this.requests} requests`);
    });
  }

  get label(): string {
    return `abci connection ${this.id}`;
  }

  /** Resolves when the socket has closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise;
  }

  /** Close now, dropping anything unanswered. */
  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  // ------------------------------------------------------------------ reader

  private onData(chunk: Buffer): void {
    if (this.inputClosed) return;
    try {
      this.decoder.push(chunk, (body) => this.onFrame(body));
    } catch (e) {
      this.inputClosed = true;
      this.enqueue({ error: e as Error, fatal: true });
    }
    this.kick();
  }

  private onFrame(body: Buffer): void {
    let req: abci.Request;
    try {
      req = abci.Request.decode(body);
    } catch (e) {
      this.enqueue({ error: new BadRequestError(`undecodable request (${body.length} bytes): ${(e as Error).message}`) });
      return;
    }
    this.enqueue({ req });
  }

  private onEnd(): void {
    if (this.inputClosed) return;
    this.inputClosed = true;
    const pending = this.decoder.pendingBytes;
    if (pending > 0) this.enqueue({ error: new FrameError(`connection closed by the peer in the middle of a frame (${pending} bytes of an incomplete frame)`), fatal: true });
    else this.enqueue({ end: true });
    this.kick();
  }

  private enqueue(item: Item): void {
    if (!this.closed) this.queue.push(item);
  }

  // ------------------------------------------------------------------ worker

  private kick(): void {
    if (!this.running && !this.closed) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      let sinceYield = 0;
      while (!this.closed && this.head < this.queue.length) {
        const item = this.queue[this.head]!;
        if (this.ctx.prefetchCheckTx && item.req?.value === 'checkTx' && !item.prefetched) {
          await this.prefetchCheckTxRun();
          continue;
        }
        this.queue[this.head++] = undefined;
        if (item.end) return this.finish();
        if (item.fatal) return this.fail(item.error!);
        this.requests++;
        const answer = item.error ? this.exception(item.error, undefined) : this.answer(item.req!);
        const res = isPromise(answer) ? await answer : answer; // no microtask hop for synchronous answers
        if (this.closed) return;
        this.write(res);
        if (item.req?.value === 'flush') this.flushOut();
        if (++sinceYield >= YIELD_EVERY && this.head < this.queue.length) {
          sinceYield = 0;
          this.flushOut();
          await setImmediateP();
        }
      }
      this.flushOut();
    } catch (e) {
      // Only a bug in the server itself can land here; never let it take the process down.
      this.ctx.log('error', `${this.label}: internal error, closing: ${(e as Error)?.stack ?? String(e)}`);
      this.destroy();
    } finally {
      this.running = false;
      if (this.head > 0 && this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    }
    // Items may have arrived while the last await was settling.
    if (!this.closed && this.head < this.queue.length) this.kick();
  }

  /** One request → its response frame; App errors become Response.exception. */
  private answer(req: abci.Request): Buffer | Promise<Buffer> {
    let r: Buffer | Promise<Buffer>;
    try {
      r = this.ctx.lock.run(() => this.ctx.handler.handle(req));
    } catch (e) {
      return this.exception(e as Error, req.value);
    }
    if (!isPromise(r)) return r;
    this.flushOut(); // nothing earlier waits while the App works
    return r.catch((e: unknown) => this.exception(e as Error, req.value));
  }

  private exception(e: Error, type: string | undefined): Buffer {
    const what = type ? `${type}: ` : '';
    const message = e instanceof Error ? e.message : String(e);
    this.ctx.log('error', `${this.label}: answering ${what}with an exception: ${e instanceof Error && !(e instanceof BadRequestError) && !(e instanceof FrameError) ? (e.stack ?? message) : message}`);
    return encodeResponseFrame({ exception: { error: `${what}${message}` } });
  }

  /**
   * Collect the run of CheckTx requests at the head of the queue and verify
   * their signatures in parallel before answering them one by one. Purely a
   * speed-up: the App's results are the same with or without it.
   */
  private async prefetchCheckTxRun(): Promise<void> {
    const collect = (): Item[] => {
      const items: Item[] = [];
      for (let i = this.head; i < this.queue.length && items.length < MAX_PREFETCH_BATCH; i++) {
        const it = this.queue[i]!;
        if (it.req?.value !== 'checkTx' || it.prefetched) break;
        items.push(it);
      }
      return items;
    };
    let items = collect();
    // While the run reaches the end of what has arrived and more keeps arriving, let the
    // pending socket reads land (one event-loop turn each) to make one bigger batch. A burst
    // ends with a Flush or a pause; neither can hold the worker more than a turn.
    for (let turns = 0; turns < MAX_WAIT_TURNS && items.length < MAX_PREFETCH_BATCH && this.head + items.length === this.queue.length && !this.inputClosed; turns++) {
      if (turns === 0) this.flushOut();
      const before = this.queue.length;
      await setImmediateP();
      if (this.closed) return;
      items = collect();
      if (this.queue.length === before) break;
    }
    for (const it of items) it.prefetched = true;
    if (items.length < MIN_PREFETCH_BATCH) return;
    this.flushOut();
    try {
      await this.ctx.handler.app.prefetchSignatures(items.map((it) => it.req!.checkTx!.tx ?? new Uint8Array(0)));
    } catch (e) {
      this.ctx.log('warn', `${this.label}: signature prefetch failed (CheckTx verifies on its own): ${(e as Error).message}`);
    }
  }

  // ------------------------------------------------------------------ output

  private write(frame: Buffer): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    if (this.outBytes >= MAX_OUT_BYTES) this.flushOut();
  }

  private flushOut(): void {
    if (this.outBytes === 0) return;
    const buf = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(buf);
    if (this.socket.writableLength > OUT_HIGH_WATER && !this.socket.isPaused()) {
      // the peer is not reading its responses: stop reading its requests until they drain
      this.socket.pause();
      this.socket.once('drain', () => {
        if (!this.closed && !this.socket.destroyed) this.socket.resume();
      });
    }
  }

  /** Peer closed cleanly: answer what is left (done), then close our side. */
  private finish(): void {
    this.flushOut();
    this.closed = true;
    this.socket.end(() => this.socket.destroy());
  }

  /** The byte stream is unusable: answer with an exception, then close. */
  private fail(e: Error): void {
    this.write(this.exception(e, undefined));
    this.flushOut();
    this.closed = true;
    this.socket.end(() => this.socket.destroy());
  }
}
