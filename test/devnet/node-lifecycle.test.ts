/**
 * The devnet node's life cycle (chain/devnet/node.ts), in-process on small homes: option overrides pass the
 * node.json checks and a refused start frees the home; a home of another chain is refused; stop() lets the
 * block being made finish and nothing runs after it; a broken invariant halts production once, with a
 * failing exit code; block times strictly increase, also across a restart on a clock that went back; and
 * blocks are reaped within the chain's max gas.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, InvariantBrokenError } from '../../chain/app.js';
import { homePaths, initHome, readDevAccounts } from '../../chain/devnet/home.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { PerpchainClient, Trader } from '../../client/index.js';
import { corruptBalance } from '../reliability/lib/home.js';
import { testKeys } from '../helpers/keys.js';
import { waitFor } from '../e2e/node.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-node-life-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const CHAIN = 'perpchain-node-life-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A devnet home with the price feeder off (blocks hold only what a test puts in them). */
async function home(name: string, balances: Array<{ address: string; amount: string }> = []): Promise<string> {
  const dir = join(tmp, name);
  await initHome({ home: dir, chainId: CHAIN, accounts: 1, ...(balances.length ? { appState: { bank: { balances } } } : {}) });
  const paths = homePaths(dir);
  const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, unknown>;
  cfg.feeder = { ...((cfg.feeder as object | undefined) ?? {}), enabled: false };
  writeFileSync(paths.config, JSON.stringify(cfg));
  return dir;
}

function start(dir: string, o: Partial<Parameters<typeof DevnetNode.start>[0]> = {}, logs: string[] = []) {
  return DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: (l) => logs.push(l), ...o });
}

/** A home at height 2 whose dev0 balance was changed on disk: the bank supply invariant no longer holds. */
async function brokenHome(name: string): Promise<string> {
  const dir = await home(name);
  const n = await start(dir);
  await n.produce();
  await n.produce();
  await n.stop();
  const dev0 = readDevAccounts(homePaths(dir)).find((a) => a.name === 'dev0')!;
  corruptBalance(homePaths(dir).db, dev0.address, 7n);
  return dir;
}

describe('devnet node: start-up', () => {
  it('an override node.json would refuse is refused, and the refused start leaves the home usable', async () => {
    const dir = await home('overrides');
    await expect(start(dir, { blockIntervalMs: 5 })).rejects.toThrow(/node options: block_interval_ms: /);
    // the refused start released the home lock (another process could not start on this home otherwise; this
    // process would take over its own lock, so the file itself is checked)
    expect(existsSync(homePaths(dir).lock)).toBe(false);
    const n = await start(dir, { blockIntervalMs: 10 });
    expect(n.config.block_interval_ms).toBe(10);
    await n.stop();
  });

  it('refuses a home whose data is of another chain than its genesis', async () => {
    const dir = await home('other-chain');
    const n = await start(dir);
    await n.produce();
    await n.stop();
    const paths = homePaths(dir);
    const g = JSON.parse(readFileSync(paths.genesis, 'utf8')) as Record<string, unknown>;
    writeFileSync(paths.genesis, JSON.stringify({ ...g, chain_id: 'perpchain-other-9' }));
    await expect(start(dir)).rejects.toThrow(`home data is for chain ${CHAIN}, genesis says perpchain-other-9`);
  });
});

describe('devnet node: block production', () => {
  it('stop() lets the block being made commit, and no block is attempted after it', async () => {
    const dir = await home('stop');
    const logs: string[] = [];
    const n = await start(dir, { autoProduce: true, blockIntervalMs: 10 }, logs);
    await waitFor(() => n.app.height >= 2n, 5_000, 'two blocks');
    // hold the next block in the making until released, so stop() arrives while it is being made
    const finalize = n.app.finalizeBlockAsync.bind(n.app);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let making = false;
    let released = false;
    n.app.finalizeBlockAsync = async (req) => {
      making = true;
      await gate;
      return finalize(req);
    };
    // nothing of the shutdown (closing the API, then the App) may start before that block is committed
    let shutDownWhileMaking = false;
    const closeApi = n.api.close.bind(n.api);
    n.api.close = () => {
      shutDownWhileMaking ||= making && !released;
      return closeApi();
    };
    const closeApp = n.app.close.bind(n.app);
    n.app.close = () => {
      shutDownWhileMaking ||= making && !released;
      closeApp();
    };
    await waitFor(() => making, 5_000, 'a block in the making');
    const height = n.app.height + 1n;
    const stopped = n.stop();
    await sleep(30);
    released = true;
    release();
    await stopped;
    await sleep(60); // several block intervals
    expect(shutDownWhileMaking).toBe(false);
    expect(logs.filter((l) => l.includes('FATAL'))).toEqual([]);
    expect(logs.at(-1)).toMatch(new RegExp(`^block ${height} `));
    expect(process.exitCode ?? 0).toBe(0);
    const app = App.open({ dbPath: homePaths(dir).db });
    expect(app.height).toBe(height);
    app.close();
  });

  it('the checkInvariants override applies: the block on a broken state is refused and nothing is committed', async () => {
    const dir = await brokenHome('inv-override');
    const n = await start(dir, { checkInvariants: true });
    try {
      await expect(n.produce()).rejects.toBeInstanceOf(InvariantBrokenError);
      expect(n.app.height).toBe(2n);
    } finally {
      await n.stop();
    }
  });

  it('a broken invariant halts production once, with a failing exit code', async () => {
    const dir = await brokenHome('inv-halt');
    const logs: string[] = [];
    const n = await start(dir, { checkInvariants: true, autoProduce: true, blockIntervalMs: 10 }, logs);
    try {
      await waitFor(() => logs.some((l) => l.includes('FATAL')), 5_000, 'the halt');
      await sleep(80); // eight more block intervals: no further attempt
      expect(logs.filter((l) => l.includes('FATAL')).length).toBe(1);
      expect(logs.join('\n')).toMatch(/FATAL: block production stopped: invariant broken at height 3/);
      expect(process.exitCode).toBe(1);
      expect(n.app.height).toBe(2n);
    } finally {
      process.exitCode = 0; // the halt's exit code, not this test run's
      await n.stop();
    }
  });

  it('block times strictly increase, 1 ms apart when the clock has not moved', async () => {
    const dir = await home('same-ms');
    const n = await start(dir);
    try {
      const now = Date.now() + 60_000; // after the genesis time
      vi.spyOn(Date, 'now').mockReturnValue(now);
      const a = await n.produce();
      const b = await n.produce();
      expect(a.timeNs).toBe(BigInt(now) * 1_000_000n);
      expect(b.timeNs - a.timeNs).toBe(1_000_000n);
    } finally {
      await n.stop();
    }
  });

  it('after a restart on a clock that went back, blocks carry times after the last block\'s', async () => {
    const dir = await home('clock-back');
    const ahead = Date.now() + 3_600_000;
    const spy = vi.spyOn(Date, 'now').mockReturnValue(ahead);
    let n = await start(dir);
    const last = await n.produce();
    await n.stop();
    spy.mockRestore(); // the clock is an hour behind that block now
    n = await start(dir);
    try {
      const next = await n.produce();
      expect(next.timeNs).toBe(last.timeNs + 1_000_000n);
    } finally {
      await n.stop();
    }
  });

  it('takes from the mempool only what fits the chain\'s max gas; the rest waits for the next block', async () => {
    const [key] = testKeys(1, 'node-life');
    const dir = await home('max-gas', [{ address: key!.address, amount: '1000000000000' }]);
    const n = await start(dir);
    const c = await PerpchainClient.connect({ url: `ws://127.0.0.1:${n.apiAddress.port}` });
    try {
      await n.produce();
      const params = n.app.consensusParams();
      vi.spyOn(n.app, 'consensusParams').mockReturnValue({ ...params, block: { ...params.block, maxGas: 450_000n } }); // two deposits' gas (200,000 each)
      const tr = await Trader.create({ client: c, signer: key! });
      const deposits = Promise.all([tr.deposit('1'), tr.deposit('2'), tr.deposit('3')]);
      await waitFor(() => n.mempool.size === 3, 5_000, 'three txs in the mempool');
      expect((await n.produce()).txs.length).toBe(2);
      expect((await n.produce()).txs.length).toBe(1);
      await deposits;
    } finally {
      c.close();
      await n.stop();
    }
  });
});
