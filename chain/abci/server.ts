/**
 * The ABCI 2.0 socket server: listens on tcp://host:port or unix:///path,
 * accepts any number of connections (CometBFT opens four: query, snapshot,
 * mempool, consensus) and serves each one with an AbciConnection. All
 * connections share one AbciHandler and one AppLock, so the App sees one
 * call at a time, as under CometBFT's Go server.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { AbciConnection } from './connection.js';
import { DEFAULT_MAX_FRAME_BYTES } from './framing.js';
import { AbciHandler, type AbciApp, type AbciLogger, type LogLevel } from './handler.js';
import { AppLock } from './lock.js';

export const DEFAULT_ABCI_ADDR = 'tcp://127.0.0.1:26658';

export interface AbciServerOptions {
  /** The App to drive (App.open(...)); the server never closes it. */
  app: AbciApp;
  /** tcp://host:port (port 0: any free port) or unix:///absolute/path. Default tcp://127.0.0.1:26658. */
  addr?: string;
  /** Log sink; default: timestamped lines on stderr, info and above. */
  log?: AbciLogger;
  /** Largest accepted request frame body in bytes (default 128 MiB). A larger one is answered with an exception and the connection closed. */
  maxFrameBytes?: number;
  /** Verify the signatures of pipelined CheckTx bursts in parallel first (App.prefetchSignatures). Default true. */
  prefetchCheckTx?: boolean;
}

export interface AbciServer {
  /** The address actually listened on (tcp://127.0.0.1:PORT with the real port, or unix:///path). */
  readonly address: string;
  /** TCP port, when listening on TCP. */
  readonly port: number | undefined;
  /** Open connections right now. */
  readonly connectionCount: number;
  /** Stop listening, close every connection (unanswered requests are dropped), remove the unix socket file. The App stays open. */
  close(): Promise<void>;
}

export type ListenAddr = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parse a CometBFT-style proxy_app address. */
export function parseAbciAddr(addr: string): ListenAddr {
  if (addr.startsWith('unix://')) {
    const path = addr.slice('unix://'.length);
    if (!path) throw new Error(`no socket path in "${addr}"`);
    return { kind: 'unix', path };
  }
  const rest = addr.startsWith('tcp://') ? addr.slice('tcp://'.length) : addr;
  const m = /^(\[[^\]]+\]|[^:/]*):(\d+)$/.exec(rest);
  if (!m) throw new Error(`cannot parse ABCI address "${addr}": expected tcp://host:port or unix:///path`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in "${addr}"`);
  const host = m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { kind: 'tcp', host, port };
}

/** Default logger: ISO timestamp, level, message; debug lines are dropped. */
export function stderrLogger(minLevel: LogLevel = 'info'): AbciLogger {
  const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  return (level, message) => {
    if (rank[level] >= rank[minLevel]) process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  };
}

/** Start serving `app` over ABCI; resolves once listening. */
export async function startAbciServer(opts: AbciServerOptions): Promise<AbciServer> {
  const log = opts.log ?? stderrLogger();
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1) throw new Error(`maxFrameBytes must be a positive integer, got ${maxFrameBytes}`);
  const listen = parseAbciAddr(opts.addr ?? DEFAULT_ABCI_ADDR);
  const ctx = {
    handler: new AbciHandler(opts.app, log),
    lock: new AppLock(),
    log,
    maxFrameBytes,
    prefetchCheckTx: opts.prefetchCheckTx ?? true,
  };
  const connections = new Set<AbciConnection>();
  let nextId = 1;

  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket: Socket) => {
    const conn = new AbciConnection(nextId++, socket, ctx);
    connections.add(conn);
    socket.once('close', () => connections.delete(conn));
    log('info', `${conn.label}: opened from ${socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'unix socket'}`);
  });
  server.on('error', (e) => log('error', `abci server: ${e.message}`));

  if (listen.kind === 'unix') await removeStaleUnixSocket(listen.path);
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(new Error(`cannot listen on ${opts.addr ?? DEFAULT_ABCI_ADDR}: ${e.message}`));
    server.once('error', onError);
    const done = () => {
      server.off('error', onError);
      resolve();
    };
    if (listen.kind === 'unix') server.listen(listen.path, done);
    else server.listen(listen.port, listen.host, done);
  });

  const bound = server.address();
  const port = listen.kind === 'tcp' && bound && typeof bound === 'object' ? bound.port : undefined;
  const address = listen.kind === 'unix' ? `unix://${listen.path}` : `tcp://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`;
  log('info', `abci server listening on ${address} (max frame ${maxFrameBytes} bytes)`);

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    get connectionCount() {
      return connections.size;
    },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = [...connections];
        for (const c of all) c.destroy();
        await Promise.all(all.map((c) => c.whenClosed()));
        await stopped;
        if (listen.kind === 'unix') {
          try {
            unlinkSync(listen.path);
          } catch {
            /* already gone */
          }
        }
        log('info', `abci server on ${address} closed`);
      })();
      return closing;
    },
  };
}

/**
 * A unix socket file left by a killed server makes listen() fail with
 * EADDRINUSE. Remove it, but only when nothing answers on it: a live
 * server's socket is left alone (listen then fails with a clear error).
 */
async function removeStaleUnixSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!statSync(path).isSocket()) throw new Error(`${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is serving ${path}`);
  unlinkSync(path);
}
