import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import type { App } from '../app.js';
import type { Mempool } from '../devnet/mempool.js';
import type { CheckTxResult, ExecTxResult } from '../types.js';

/**
 * The node's trader endpoint: JSON over WebSocket (and a few plain HTTP GET/POST
 * routes for curl). It only reads committed state and submits txs to the
 * mempool; it never writes state.
 *
 * Request:  {"id": 1, "method": "submit_tx", "params": {"tx": "<base64 TxRaw>"}}
 * Response: {"id": 1, "result": {...}}  or  {"id": 1, "error": {"code": "...", "message": "..."}}
 * Push:     {"id": 1, "type": "tx_result", "result": {...}}  (inclusion of a submitted tx)
 */
export interface ApiOptions {
  host: string;
  port: number;
  maxFrameBytes: number;
}

export interface NodeServices {
  app: App;
  mempool: Mempool;
  /** Add a tx to the mempool; the node may batch signature verification. */
  submit(tx: Uint8Array): Promise<CheckTxResult & { hash: string }>;
}

export function txResultJson(r: CheckTxResult | ExecTxResult) {
  return {
    code: r.code,
    codespace: r.codespace,
    log: r.log,
    gas_wanted: r.gasWanted.toString(),
    gas_used: r.gasUsed.toString(),
    events: r.events.map((e) => ({ type: e.type, attributes: Object.fromEntries(e.attributes.map((a) => [a.key, a.value])) })),
  };
}

export class ApiServer {
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;

  constructor(
    private readonly node: NodeServices,
    private readonly opts: ApiOptions,
  ) {}

  async listen(): Promise<{ host: string; port: number }> {
    this.http = createServer((req, res) => void this.handleHttp(req, res));
    this.wss = new WebSocketServer({ server: this.http, maxPayload: this.opts.maxFrameBytes });
    this.wss.on('connection', (ws) => this.handleSocket(ws));
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', reject);
      this.http!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    const a = this.http.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async close(): Promise<void> {
    for (const c of this.wss?.clients ?? []) c.terminate();
    await new Promise<void>((r) => (this.wss ? this.wss.close(() => r()) : r()));
    await new Promise<void>((r) => (this.http ? this.http.close(() => r()) : r()));
  }

  private status() {
    const app = this.node.app;
    return { chain_id: app.chainId, height: app.height.toString(), app_hash: Buffer.from(app.appHash).toString('hex').toUpperCase(), mempool_size: this.node.mempool.size };
  }

  private query(path: string): { ok: true; value: unknown } | { ok: false; code: string; message: string } {
    const r = this.node.app.query({ path, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) return { ok: false, code: `${r.codespace}/${r.code}`, message: r.log };
    return { ok: true, value: JSON.parse(Buffer.from(r.value).toString('utf8')) };
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (req.method === 'GET' && url.pathname === '/status') return send(200, this.status());
      if (req.method === 'GET' && url.pathname.startsWith('/query/')) {
        const q = this.query(decodeURIComponent(url.pathname.slice('/query/'.length)));
        return q.ok ? send(200, q.value) : send(400, { error: { code: q.code, message: q.message } });
      }
      if (req.method === 'POST' && url.pathname === '/tx') {
        const body = await readBody(req, this.opts.maxFrameBytes);
        const text = body.toString('utf8').trim();
        const bytes = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : body;
        const r = await this.node.submit(bytes);
        return send(r.code === 0 ? 200 : 400, { hash: r.hash, check_tx: txResultJson(r) });
      }
      send(404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}; try GET /status, GET /query/<path>, POST /tx` } });
    } catch (e) {
      send(400, { error: { code: 'bad_request', message: (e as Error).message } });
    }
  }

  private handleSocket(ws: WebSocket): void {
    ws.on('message', (data, isBinary) => {
      void this.handleMessage(ws, isBinary ? Buffer.alloc(0) : Buffer.from(data as Buffer));
    });
  }

  private async handleMessage(ws: WebSocket, raw: Buffer): Promise<void> {
    let msg: { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    const reply = (body: Record<string, unknown>) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(body));
    try {
      msg = JSON.parse(raw.toString('utf8'));
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object');
    } catch (e) {
      return void reply({ error: { code: 'bad_json', message: `message is not a JSON object: ${(e as Error).message}` } });
    }
    const id = msg.id ?? null;
    const params = msg.params ?? {};
    try {
      switch (msg.method) {
        case 'status':
          return void reply({ id, result: this.status() });
        case 'query': {
          const q = this.query(String(params.path ?? ''));
          return void reply(q.ok ? { id, result: q.value } : { id, error: { code: q.code, message: q.message } });
        }
        case 'submit_tx': {
          if (typeof params.tx !== 'string') return void reply({ id, error: { code: 'bad_params', message: 'params.tx must be a base64 string' } });
          const bytes = Buffer.from(params.tx, 'base64');
          const r = await this.node.submit(bytes);
          reply({ id, result: { hash: r.hash, check_tx: txResultJson(r) } });
          if (r.code === 0) {
            this.node.mempool.onInclusion(r.hash, (inc) =>
              reply({ id, type: 'tx_result', result: 'dropped' in inc ? { hash: inc.hash, dropped: inc.dropped } : { hash: inc.hash, height: inc.height.toString(), ...txResultJson(inc.result) } }),
            );
          }
          return;
        }
        default:
          return void reply({ id, error: { code: 'unknown_method', message: `unknown method ${JSON.stringify(msg.method)}; methods: status, query, submit_tx` } });
      }
    } catch (e) {
      reply({ id, error: { code: 'internal', message: (e as Error).message } });
    }
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        reject(new Error(`body larger than ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
