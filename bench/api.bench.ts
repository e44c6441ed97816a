/**
 * WebSocket API fan-out: 1,000 clients subscribed to orderbook:BTC-USD on a
 * devnet node (temp home, 100 ms blocks) while traders send continuous
 * order flow through the SDK. Reports the delay from block commit (the
 * moment the API's commit listener ran) to the arrival of that block's
 * delta at each client (parsed), p50/p99/max over every (client, block).
 *
 * The clients run in a worker thread (their own event loop, like separate
 * processes on the machine); times are absolute (timeOrigin + now), so the
 * two clocks agree. Every client also checks seq/height continuity.
 *
 * The order flow: 3 SDK traders, each keeping `inflight` batches of 5
 * orders (4 good-til-block resting orders around the mid and one crossing
 * IOC) in flight; in the node's thread by default, in a third thread with
 * --traders-thread (slower on a 2-core machine: more context switches).
 *
 *   npm run bench -- api [--clients=1000] [--seconds=30] [--block-ms=100] [--inflight=2] [--traders-thread]
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

export const name = 'api';
export const description = '1,000 WebSocket clients on one market book under continuous order flow: block commit → delivery delay';

const now = () => performance.timeOrigin + performance.now();

interface ClientsData {
  role: 'api-bench-clients';
  url: string;
  clients: number;
  channel: string;
}

// ------------------------------------------------------------- worker side

async function runClients(d: ClientsData): Promise<void> {
  const port = parentPort!;
  let heights = new Float64Array(1 << 20);
  let times = new Float64Array(1 << 20);
  let n = 0;
  let gaps = 0;
  let bytes = 0;
  const sockets: WebSocket[] = [];
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(d.url, { perMessageDeflate: false });
      let last = { seq: 0, height: 0 };
      ws.on('message', (raw: Buffer) => {
        const t = now();
        bytes += raw.length;
        const m = JSON.parse(raw.toString()) as { type?: string; channel?: string; seq?: number; height?: number };
        if (m.type === 'welcome') {
          ws.send(JSON.stringify({ id: 1, method: 'subscribe', params: { channel: d.channel } }));
          return;
        }
        if (m.channel !== d.channel) return;
        if (m.type === 'snapshot') {
          last = { seq: m.seq!, height: m.height! };
          resolve();
          return;
        }
        if (m.seq !== last.seq + 1 || m.height !== last.height + 1) gaps++;
        last = { seq: m.seq!, height: m.height! };
        if (n === heights.length) {
          const h2 = new Float64Array(n * 2);
          h2.set(heights);
          heights = h2;
          const t2 = new Float64Array(n * 2);
          t2.set(times);
          times = t2;
        }
        heights[n] = m.height!;
        times[n] = t;
        n++;
      });
      ws.on('error', reject);
      sockets.push(ws);
    });
  for (let i = 0; i < d.clients; i += 50) await Promise.all(Array.from({ length: Math.min(50, d.clients - i) }, open));
  port.postMessage({ type: 'ready' });
  port.on('message', (m: { type: string }) => {
    if (m.type !== 'stop') return;
    for (const s of sockets) s.terminate();
    port.postMessage({ type: 'samples', heights: heights.slice(0, n), times: times.slice(0, n), gaps, bytes });
  });
}

interface TradersData {
  role: 'api-bench-traders';
  url: string;
  keyLabels: string[];
  inflight: number;
}

/** Continuous order flow: 3 traders, each keeping `inflight` batches of 5 orders in flight, until stop(). */
async function orderFlow(url: string, keyLabels: string[], inflight: number, stopped: () => boolean): Promise<{ orders: number; failed: number }> {
  const { TestKey } = await import('../test/helpers/keys.js');
  const { PerpchainClient, Trader } = await import('../client/index.js');
  const sdk = await PerpchainClient.connect({ url });
  const traders = await Promise.all(keyLabels.map((l) => Trader.create({ client: sdk, signer: new TestKey(l) })));
  let orders = 0;
  let failed = 0;
  let height = (await sdk.status()).height;
  await sdk.subscribe('blocks', (m) => (height = m.height));
  let seed = 1;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32);
  // resting orders expire after 30 blocks (good-til-block); an IOC per batch crosses the spread
  await Promise.all(
    traders.flatMap((t) =>
      Array.from({ length: inflight }, async () => {
        while (!stopped()) {
          const ops: Parameters<typeof t.batch>[0] = [];
          for (let i = 0; i < 4; i++) {
            const side = rnd() < 0.5 ? 'buy' : 'sell';
            const off = 1 + Math.floor(rnd() * 60);
            ops.push({ op: 'place', market: 'BTC-USD', side, price: String(side === 'buy' ? 65_000 - off : 65_000 + off), size: '0.001', goodTilBlock: height + 30 });
          }
          const side = rnd() < 0.5 ? 'buy' : 'sell';
          ops.push({ op: 'place', market: 'BTC-USD', side, price: String(side === 'buy' ? 65_030 : 64_970), size: '0.001', timeInForce: 'ioc' });
          try {
            await t.batch(ops);
            orders += ops.length;
          } catch {
            failed++;
          }
        }
      }),
    ),
  );
  sdk.close();
  return { orders, failed };
}

/** The order flow in its own thread (--traders-thread). */
async function runTraders(d: TradersData): Promise<void> {
  const port = parentPort!;
  let stop = false;
  port.on('message', (m: { type: string }) => {
    if (m.type === 'stop') stop = true;
  });
  port.postMessage({ type: 'ready' });
  const r = await orderFlow(d.url, d.keyLabels, d.inflight, () => stop);
  port.postMessage({ type: 'done', ...r });
}

const role = isMainThread ? undefined : (workerData as { role?: string } | undefined)?.role;
if (role === 'api-bench-clients') void runClients(workerData as ClientsData);
if (role === 'api-bench-traders') void runTraders(workerData as TradersData);

/** Start this file in a worker thread under tsx (workers do not inherit the --import hook). */
function startWorker(data: ClientsData | TradersData): Worker {
  const boot = `(async () => { const { register } = await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}); register(); await import(${JSON.stringify(import.meta.url)}); })().catch((e) => { console.error(e); process.exit(1); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

function message<T>(w: Worker, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('error', reject);
    w.on('message', (m: { type: string }) => m.type === type && resolve(m as T));
  });
}

// ------------------------------------------------------------- main side

function arg(args: string[], key: string, def: number): number {
  const a = args.find((x) => x.startsWith(`--${key}=`));
  return a ? Number(a.split('=')[1]) : def;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(args: string[]): Promise<Record<string, number>> {
  const clients = arg(args, 'clients', 1000);
  const seconds = arg(args, 'seconds', 30);
  const blockMs = arg(args, 'block-ms', 100);
  const inflight = arg(args, 'inflight', 2);
  const { initHome, homePaths } = await import('../chain/devnet/home.js');
  const { marketsAppState } = await import('../chain/devnet/markets.js');
  const { DevnetNode } = await import('../chain/devnet/node.js');
  const { testKeys, TestKey } = await import('../test/helpers/keys.js');
  const { PerpchainClient, Trader } = await import('../client/index.js');

  const home = mkdtempSync(join(tmpdir(), 'perpchain-api-bench-'));
  const keys = testKeys(4, 'api-bench');
  const feeder = new TestKey('api-bench-feeder');
  const markets = marketsAppState(keys[0]!.address, [feeder.address]) as { prices: { params: Record<string, unknown> } };
  markets.prices.params.staleness_seconds = '1000000';
  await initHome({ home, chainId: 'perpchain-bench-1', accounts: 1, appState: { bank: { balances: [...keys, feeder].map((k) => ({ address: k.address, amount: '1000000000000' })) }, ...markets } });
  const paths = homePaths(home);
  const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as { api: Record<string, unknown>; feeder?: Record<string, unknown> };
  cfg.api = { ...cfg.api, max_connections_per_ip: clients + 50, max_messages_per_second_per_ip: 1_000_000 };
  cfg.feeder = { ...(cfg.feeder ?? {}), enabled: false }; // fixed oracle: the flow is priced around $65,000
  writeFileSync(paths.config, JSON.stringify(cfg));
  const node = await DevnetNode.start({ home, apiPort: 0, blockIntervalMs: blockMs, log: () => {} });
  const url = `ws://127.0.0.1:${node.apiAddress.port}`;
  const commitAt = new Map<number, number>();
  let fanOutMs = 0;
  let fanOuts = 0;
  node.api.onFanOut = (u) => {
    // committedAt is performance.now() of this (main) thread
    const c = performance.timeOrigin + u.committedAt;
    commitAt.set(u.height, c);
    fanOutMs += now() - c;
    fanOuts++;
  };
  try {
    while (node.app.height < 2n) await new Promise((r) => setTimeout(r, 20));
    const sdk = await PerpchainClient.connect({ url });
    const labels = [1, 2, 3].map((i) => `api-bench-${i}`);
    const traders = await Promise.all(keys.slice(1).map((k) => Trader.create({ client: sdk, signer: k })));
    await Promise.all(traders.map((t) => t.deposit('500000')));
    sdk.close();

    const t0 = Date.now();
    const worker = startWorker({ role: 'api-bench-clients', url, clients, channel: 'orderbook:BTC-USD' });
    await message(worker, 'ready');
    const connectMs = Date.now() - t0;
    console.log(`  ${clients} clients connected and subscribed in ${connectMs} ms; order flow for ${seconds} s…`);
    const startHeight = Number(node.app.height) + 1;
    let orders: number;
    let failed: number;
    if (args.includes('--traders-thread')) {
      const flowWorker = startWorker({ role: 'api-bench-traders', url, keyLabels: labels, inflight });
      await message(flowWorker, 'ready');
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const done = message<{ orders: number; failed: number }>(flowWorker, 'done');
      flowWorker.postMessage({ type: 'stop' });
      ({ orders, failed } = await done);
      await flowWorker.terminate();
    } else {
      // the traders share the node's thread (2 threads in all: fewest context switches on small machines)
      let stop = false;
      const flow = orderFlow(url, labels, inflight, () => stop);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      stop = true;
      ({ orders, failed } = await flow);
    }
    const endHeight = Number(node.app.height);
    await new Promise((r) => setTimeout(r, 1_000)); // let the last block's deltas arrive
    const samplesP = message<{ heights: Float64Array; times: Float64Array; gaps: number; bytes: number }>(worker, 'samples');
    worker.postMessage({ type: 'stop' });
    const samples = await samplesP;
    await worker.terminate();

    const delays: number[] = [];
    for (let i = 0; i < samples.heights.length; i++) {
      const h = samples.heights[i]!;
      if (h < startHeight || h > endHeight) continue;
      const c = commitAt.get(h);
      if (c !== undefined) delays.push(samples.times[i]! - c);
    }
    const sorted = Float64Array.from(delays).sort();
    const blocks = endHeight - startHeight + 1;
    const figures = {
      clients,
      blocks,
      deliveries: sorted.length,
      expected_deliveries: clients * blocks,
      seq_or_height_gaps: samples.gaps,
      orders_per_s: Math.round(orders / seconds),
      failed_batches: failed,
      commit_to_delivery_p50_ms: round(pct(sorted, 50)),
      commit_to_delivery_p99_ms: round(pct(sorted, 99)),
      commit_to_delivery_max_ms: round(sorted[sorted.length - 1] ?? Number.NaN),
      commit_to_last_send_mean_ms: round(fanOutMs / Math.max(1, fanOuts)),
      feed_per_block_ms: round(node.api.counters.feedMs / Math.max(1, node.api.counters.blocks)),
      fan_out_per_block_ms: round(node.api.counters.fanOutMs / Math.max(1, node.api.counters.blocks)),
      connect_1000_clients_ms: connectMs,
      bytes_received_per_client_per_block: Math.round(samples.bytes / Math.max(1, clients * blocks)),
      // other processes on the machine (delays grow with CPU contention; read with the machine line)
      machine_load_avg_1m_end: round(loadavg()[0]!),
    };
    if (figures.seq_or_height_gaps > 0) console.log(`  WARNING: ${figures.seq_or_height_gaps} seq/height gaps seen by clients`);
    console.log(`  target: p99 ≤ 50 ms → ${figures.commit_to_delivery_p99_ms <= 50 ? 'met' : 'NOT met'}`);
    return figures;
  } finally {
    await node.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
