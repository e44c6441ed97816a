/**
 * The SDK's transport: one WebSocket to a perpchain node, with
 *  - request/response by id (each request may time out),
 *  - channel subscriptions that are restored after every reconnect (the
 *    handler then sees a fresh snapshot, whose seq the next message continues),
 *  - waits for tx inclusion that survive reconnects (re-asked with
 *    {"method":"tx","params":{"hash":…,"wait":true}}),
 *  - reconnect with exponential backoff and jitter, and a client-side ping
 *    that notices a dead server.
 * Works with the `ws` package (Node, default) or any browser-compatible
 * WebSocket constructor passed as `WebSocket`.
 */
import WS from 'ws';
import type { ApiErrorBody, ChannelMessage, TxInclusion, WelcomeMessage } from './protocol.js';

export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** 0..1: each delay is multiplied by a random factor in [1 − jitter, 1 + jitter]. */
  jitter?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

export interface ConnectionOptions {
  url: string;
  WebSocket?: WebSocketCtor;
  /** false: no reconnect. */
  reconnect?: ReconnectOptions | false;
  requestTimeoutMs?: number;
  /** connect() gives up (rejects and stops retrying) when no welcome came within this long. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Client ping interval (0 = off). A ping unanswered for requestTimeoutMs drops and reconnects the socket. */
  pingIntervalMs?: number;
  log?: (line: string) => void;
}

/** A request the node did not answer in time (the connection itself looked alive). */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  /** For a tx submission: its hash, to ask for its fate (`tx` / waitTx) rather than sign it again. */
  txHash: string | undefined;
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`${method}: no answer within ${timeoutMs} ms`);
  }
}

export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  readonly code: string;
  readonly chainCode: string | undefined;
  constructor(
    readonly method: string,
    body: ApiErrorBody,
  ) {
    super(`${method}: ${body.code}: ${body.message}`);
    this.code = body.code;
    this.chainCode = body.chain_code;
  }
}

export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
}

type Listener<T> = (v: T) => void;
export interface ConnectionEvents {
  open: WelcomeMessage['data'];
  close: { code: number; reason: string };
  reconnecting: { attempt: number; delayMs: number };
  /** Server-side error not tied to a request (slow consumer, rate limit…). */
  serverError: ApiErrorBody;
  error: Error;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Runs synchronously with the result, before any later frame is handled. */
  onResult?: (v: unknown) => void;
}

interface TxWait {
  hash: string;
  resolve(r: TxInclusion): void;
  reject(e: Error): void;
  /** Request id the server will answer the inclusion under (changes after a reconnect). */
  id: number | undefined;
}

const OPEN = 1;

export class PerpchainConnection {
  private ws: WebSocketLike | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queued: Array<() => void> = [];
  private readonly handlers = new Map<string, (m: ChannelMessage) => void>();
  /** Requested channel name → canonical name (as the server calls it). */
  private readonly aliases = new Map<string, string>();
  private readonly txWaits = new Map<string, TxWait>();
  private readonly txById = new Map<number, TxWait>();
  private readonly listeners: { [K in keyof ConnectionEvents]?: Array<Listener<ConnectionEvents[K]>> } = {};
  private attempt = 0;
  private closedByUser = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly Ctor: WebSocketCtor;
  private openWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  welcome: WelcomeMessage['data'] | undefined;
  /** Reconnects so far (not counting the first connect). */
  reconnects = 0;

  constructor(readonly opts: ConnectionOptions) {
    this.Ctor = opts.WebSocket ?? defaultWebSocket();
  }

  get isOpen(): boolean {
    return this.ws?.readyState === OPEN && this.welcome !== undefined;
  }

  on<K extends keyof ConnectionEvents>(event: K, fn: Listener<ConnectionEvents[K]>): () => void {
    const list = (this.listeners[event] ??= []) as Array<Listener<ConnectionEvents[K]>>;
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private emit<K extends keyof ConnectionEvents>(event: K, v: ConnectionEvents[K]): void {
    for (const fn of [...((this.listeners[event] ?? []) as Array<Listener<ConnectionEvents[K]>>)]) fn(v);
  }

  /** Open the socket; resolves at the server's welcome. */
  connect(): Promise<void> {
    this.closedByUser = false;
    const ms = this.opts.connectTimeoutMs ?? 10_000;
    const p = new Promise<void>((resolve, reject) => {
      // a node that never answers must not leave the caller waiting forever (reconnects would go on silently)
      const timer = setTimeout(() => {
        const i = this.openWaiters.indexOf(w);
        if (i < 0) return;
        this.openWaiters.splice(i, 1);
        this.close();
        reject(new ConnectionLostError(`no welcome from ${this.opts.url} within ${ms} ms (is the node running?)`));
      }, ms);
      const w = {
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      this.openWaiters.push(w);
    });
    this.open();
    return p;
  }

  private open(): void {
    const ws = new this.Ctor(this.opts.url);
    this.ws = ws;
    this.welcome = undefined;
    ws.onmessage = (ev) => this.onFrame(typeof ev.data === 'string' ? ev.data : String(ev.data));
    ws.onerror = (ev) => {
      const msg = (ev as { message?: string; error?: Error })?.message ?? (ev as { error?: Error })?.error?.message ?? 'socket error';
      this.opts.log?.(`perpchain: socket error: ${msg}`);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.onClosed(ev.code, ev.reason);
    };
  }

  private onClosed(code: number, reason: string): void {
    this.ws = undefined;
    this.welcome = undefined;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    for (const [id, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new ConnectionLostError(`${p.method}: connection closed before the answer (${code} ${reason})`));
    }
    for (const w of this.txWaits.values()) w.id = undefined;
    this.txById.clear();
    this.emit('close', { code, reason });
    const rc = this.opts.reconnect;
    if (this.closedByUser || rc === false) {
      for (const w of this.openWaiters.splice(0)) w.reject(new ConnectionLostError(`connection closed (${code} ${reason})`));
      return;
    }
    const o = rc ?? {};
    this.attempt++;
    if (o.maxAttempts !== undefined && this.attempt > o.maxAttempts) {
      const e = new ConnectionLostError(`gave up after ${o.maxAttempts} reconnect attempts`);
      for (const w of this.openWaiters.splice(0)) w.reject(e);
      for (const q of this.queued.splice(0)) q();
      for (const w of this.txWaits.values()) w.reject(e);
      this.txWaits.clear();
      this.emit('error', e);
      return;
    }
    const base = Math.min(o.maxDelayMs ?? 10_000, (o.initialDelayMs ?? 200) * (o.factor ?? 2) ** (this.attempt - 1));
    const j = o.jitter ?? 0.2;
    const delayMs = Math.round(base * (1 - j + 2 * j * Math.random()));
    this.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }

  private onWelcome(data: WelcomeMessage['data']): void {
    const first = this.welcome === undefined && this.reconnects === 0 && this.attempt === 0;
    if (!first) this.reconnects++;
    this.attempt = 0;
    this.welcome = data;
    const interval = this.opts.pingIntervalMs ?? 15_000;
    if (interval > 0) {
      this.pingTimer = setInterval(() => {
        this.request('ping', {}, { timeoutMs: this.opts.requestTimeoutMs ?? 15_000 }).catch((e: Error) => {
          if (e instanceof ConnectionLostError) return;
          this.opts.log?.(`perpchain: ping failed (${e.message}); reconnecting`);
          this.ws?.close(4000, 'ping timeout');
        });
      }, interval);
      (this.pingTimer as { unref?: () => void }).unref?.();
    }
    for (const w of this.openWaiters.splice(0)) w.resolve();
    for (const q of this.queued.splice(0)) q();
    // restore subscriptions and inclusion waits
    for (const name of [...this.handlers.keys()]) {
      this.send('subscribe', { channel: name }).catch((e: Error) => {
        if (e instanceof ApiRequestError && e.code === 'already_subscribed') return; // a queued subscribe got there first
        this.emit('error', new Error(`resubscribe ${name}: ${e.message}`));
      });
    }
    for (const w of this.txWaits.values()) this.askTx(w);
    this.emit('open', data);
  }

  private onFrame(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.emit('error', new Error(`server sent a frame that is not JSON: ${text.slice(0, 100)}`));
      return;
    }
    if (typeof msg.channel === 'string') {
      const h = this.handlers.get(msg.channel);
      h?.(msg as unknown as ChannelMessage);
      return;
    }
    if (msg.type === 'welcome') return this.onWelcome((msg as unknown as WelcomeMessage).data);
    if (msg.type === 'tx_result') {
      const w = typeof msg.id === 'number' ? this.txById.get(msg.id) : undefined;
      if (w) this.finishTx(w, msg.result as TxInclusion);
      return;
    }
    if (msg.type === 'error') {
      this.emit('serverError', msg.error as ApiErrorBody);
      return;
    }
    if (typeof msg.id === 'number') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (p.timer) clearTimeout(p.timer);
      if (msg.error) p.reject(new ApiRequestError(p.method, msg.error as ApiErrorBody));
      else {
        p.onResult?.(msg.result);
        p.resolve(msg.result);
      }
    } else if (msg.error) {
      this.emit('serverError', msg.error as ApiErrorBody);
    }
  }

  /** Send now if open, else when the connection (re)opens; rejects on timeout or when this connection drops. */
  private send(method: string, params: Record<string, unknown>, o: { timeoutMs?: number; onResult?: (v: unknown) => void; id?: number } = {}): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timeoutMs = o.timeoutMs ?? this.opts.requestTimeoutMs ?? 15_000;
      const started = Date.now();
      const go = () => {
        if (this.closedByUser && !this.isOpen) return reject(new ConnectionLostError(`${method}: connection closed`));
        if (!this.isOpen) return reject(new ConnectionLostError(`${method}: not connected`));
        const id = o.id ?? this.nextId++;
        const left = Math.max(1, timeoutMs - (Date.now() - started));
        const timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RequestTimeoutError(method, timeoutMs));
        }, left);
        this.pending.set(id, { method, resolve, reject, timer, ...(o.onResult ? { onResult: o.onResult } : {}) });
        this.ws!.send(JSON.stringify({ id, method, params }));
      };
      if (this.isOpen) go();
      else if (this.closedByUser) reject(new ConnectionLostError(`${method}: connection closed`));
      else {
        const t = setTimeout(() => {
          const i = this.queued.indexOf(go);
          if (i >= 0) this.queued.splice(i, 1);
          reject(new ConnectionLostError(`${method}: not connected within ${timeoutMs} ms`));
        }, timeoutMs);
        this.queued.push(() => {
          clearTimeout(t);
          go();
        });
      }
    });
  }

  /**
   * A request. `idempotent` requests (queries) are re-sent once the
   * connection is back when it drops mid-flight; others reject with
   * ConnectionLostError and the caller decides.
   */
  async request<T = unknown>(method: string, params: Record<string, unknown> = {}, o: { timeoutMs?: number; idempotent?: boolean } = {}): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return (await this.send(method, params, o)) as T;
      } catch (e) {
        if (!(e instanceof ConnectionLostError) || !o.idempotent || tries >= 5 || this.closedByUser || this.opts.reconnect === false) throw e;
        await this.whenOpen(o.timeoutMs ?? this.opts.requestTimeoutMs ?? 15_000);
      }
    }
  }

  /** Resolves when the connection is open (now or after a reconnect). */
  whenOpen(timeoutMs = 15_000): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new ConnectionLostError(`not connected within ${timeoutMs} ms`)), timeoutMs);
      this.openWaiters.push({
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /**
   * Subscribe; `handler` receives every message of the channel, including a
   * new snapshot (the channel's current seq) after each reconnect. The handler is registered under
   * the server's canonical name (e.g. "orderbook:0" → "orderbook:BTC-USD")
   * before the snapshot is handled. Returns the canonical name.
   */
  async subscribe(channel: string, handler: (m: ChannelMessage) => void): Promise<string> {
    // One handler per channel: a second subscribe is refused here, before it could replace (and on the
    // server's refusal, delete) the first subscriber's handler.
    const existing = this.aliases.get(channel) ?? channel;
    if (this.handlers.has(existing)) {
      throw new ApiRequestError('subscribe', { code: 'already_subscribed', message: `already subscribed to ${existing} on this connection; share that subscription or unsubscribe first` });
    }
    this.handlers.set(channel, handler);
    const onResult = (v: unknown) => {
      const canonical = (v as { channel: string }).channel;
      if (canonical !== channel) {
        this.handlers.delete(channel);
        this.handlers.set(canonical, handler);
        this.aliases.set(channel, canonical);
      }
    };
    try {
      const r = (await this.send('subscribe', { channel }, { onResult })) as { channel: string };
      return r.channel;
    } catch (e) {
      if (this.handlers.get(channel) === handler) this.handlers.delete(channel);
      throw e;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    const name = this.aliases.get(channel) ?? channel;
    this.handlers.delete(name);
    this.aliases.delete(channel);
    if (this.isOpen) await this.request('unsubscribe', { channel: name }).catch((e: unknown) => {
      if (!(e instanceof ApiRequestError && e.code === 'not_subscribed')) throw e;
    });
  }

  /** Resubscribe one channel for a fresh snapshot (used on a gap or checksum mismatch). */
  async resubscribe(channel: string): Promise<void> {
    const name = this.aliases.get(channel) ?? channel;
    const h = this.handlers.get(name);
    if (!h) throw new Error(`not subscribed to ${channel}`);
    await this.request('unsubscribe', { channel: name }).catch(() => undefined);
    this.handlers.set(name, h);
    await this.request('subscribe', { channel: name }, { idempotent: true });
  }

  /** Submit a signed TxRaw: resolves with the CheckTx answer and a promise of the inclusion result. */
  async submitTx(tx: Uint8Array): Promise<{ hash: string; checkTx: { code: number; codespace: string; log: string }; inclusion: Promise<TxInclusion> }> {
    const b64 = toBase64(tx);
    let wait: TxWait | undefined;
    let inclusion: Promise<TxInclusion> | undefined;
    const id = this.nextId++;
    const r = (await this.send('submit_tx', { tx: b64 }, {
      id,
      onResult: (v) => {
        const res = v as { hash: string; check_tx: { code: number; codespace: string } };
        if (res.check_tx.code === 0 || (res.check_tx.codespace === 'tx' && res.check_tx.code === 26)) {
          inclusion = new Promise<TxInclusion>((resolve, reject) => (wait = { hash: res.hash, resolve, reject, id }));
          this.txWaits.set(res.hash, wait!);
          this.txById.set(id, wait!);
        }
      },
    })) as { hash: string; check_tx: { code: number; codespace: string; log: string } };
    return { hash: r.hash, checkTx: r.check_tx, inclusion: inclusion ?? Promise.resolve({ hash: r.hash, status: 'unknown', reason: `rejected by CheckTx: ${r.check_tx.codespace}/${r.check_tx.code} ${r.check_tx.log}` }) };
  }

  /** Wait for a tx by hash (already submitted, maybe by an earlier connection); survives reconnects. */
  waitTx(hash: string): Promise<TxInclusion> {
    if (this.closedByUser) return Promise.reject(new ConnectionLostError('client closed'));
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) return Promise.reject(new ApiRequestError('tx', { code: 'bad_params', message: `a tx hash is 64 hex characters, got ${JSON.stringify(hash.slice(0, 80))}` }));
    const h = hash.toUpperCase();
    const existing = this.txWaits.get(h);
    if (existing) return new Promise((resolve, reject) => {
      const prev = { resolve: existing.resolve, reject: existing.reject };
      existing.resolve = (r) => (prev.resolve(r), resolve(r));
      existing.reject = (e) => (prev.reject(e), reject(e));
    });
    return new Promise((resolve, reject) => {
      const w: TxWait = { hash: h, resolve, reject, id: undefined };
      this.txWaits.set(h, w);
      if (this.isOpen) this.askTx(w);
    });
  }

  private askTx(w: TxWait): void {
    const id = this.nextId++;
    w.id = id;
    this.txById.set(id, w);
    this.send('tx', { hash: w.hash, wait: true }, { id })
      .then((r) => {
        const inc = r as TxInclusion;
        if (inc.status === 'included') this.finishTx(w, inc);
      })
      .catch((e: unknown) => {
        // a lost connection re-asks on reconnect; the server refusing the question ends the wait
        if (e instanceof ApiRequestError && this.txWaits.get(w.hash) === w) {
          this.txWaits.delete(w.hash);
          this.txById.delete(id);
          w.reject(e);
        }
      });
  }

  private finishTx(w: TxWait, r: TxInclusion): void {
    if (r.status === 'pending' || r.status === 'unknown') return;
    if (this.txWaits.get(w.hash) === w) this.txWaits.delete(w.hash);
    if (w.id !== undefined) this.txById.delete(w.id);
    w.resolve(r);
  }

  /** Drop the socket now (tests: simulate a network failure); reconnects unless closed by close(). */
  dropForTest(): void {
    const ws = this.ws as unknown as { terminate?: () => void } | undefined;
    if (ws?.terminate) ws.terminate();
    else this.ws?.close(4000, 'dropped by client');
  }

  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const w of this.txWaits.values()) w.reject(new ConnectionLostError('client closed'));
    this.txWaits.clear();
    // (between reconnect attempts there is no socket whose close would reject these)
    for (const w of this.openWaiters.splice(0)) w.reject(new ConnectionLostError('client closed'));
    this.ws?.close(1000, 'client closed');
  }
}

/**
 * The page's own WebSocket in a browser, else the `ws` package (Node 20 has no global WebSocket, and
 * bundlers give browsers ws's stub, which only throws).
 */
function defaultWebSocket(): WebSocketCtor {
  const g = globalThis as { window?: unknown; WebSocket?: WebSocketCtor };
  if (g.window !== undefined && typeof g.WebSocket === 'function') return g.WebSocket;
  return WS as unknown as WebSocketCtor;
}

function toBase64(b: Uint8Array): string {
  if (typeof Buffer !== 'undefined') return Buffer.from(b).toString('base64');
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
