/**
 * Invariant checking as a node option: with checkInvariantsEveryBlock (the
 * App option; `perpchain start --check-invariants`; `perpchain abci
 * --check-invariants`) a node whose state breaks an invariant halts at the
 * next block with a report that names the invariant and the numbers, and
 * commits nothing. The broken state is made by changing one bank balance on
 * disk *consistently* (value, Merkle leaf and committed app hash rewritten),
 * so the node's start-up integrity checks pass and only the invariants can
 * tell — as with a bug that committed a wrong state.
 *
 * Also: the set of invariants checked covers what the reliability issue
 * asks for, and each of them detects a break of its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, InvariantBrokenError } from '../../chain/app.js';
import { initHome, readDevAccounts, homePaths } from '../../chain/devnet/home.js';
import { encodeInt } from '../../chain/codec/amount.js';
import { startProc, type Proc } from '../helpers/proc.js';
import { AbciTestClient } from '../abci/client.js';
import { buildHome, corruptBalance, corruptValue } from './lib/home.js';
import { allInvariantProblems, invariantNames } from './lib/ledger.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ORDER_TABLE } from '../../modules/clob/keys.js';
import { Branch } from '../../chain/store/branch.js';
import Long from 'long';
import { OrdersLedger } from './lib/orders-ledger.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-rel-inv-'));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('invariants: checked every block on request, halting with a readable report', () => {
  it('the App halts at the next block with the broken invariant and the figures, and commits nothing', () => {
    const b = buildHome(join(tmp, 'app'), 25, 41, 8);
    const victim = b.traffic.traders[2]!.address;
    corruptBalance(b.db, victim, 1_000_000n);
    // start-up integrity checks pass (the change is consistent), so only the invariants can tell
    const app = App.open({ dbPath: b.db, checkInvariantsEveryBlock: true });
    expect(app.height).toBe(25n);
    const req = b.traffic.next(app);
    let err: unknown;
    try {
      app.finalizeBlock(req);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvariantBrokenError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^invariant broken at height 26:/);
    expect(msg).toMatch(/bank\/supply:\n\s+- Σ balances \d+ ≠ supply \d+/);
    const supply = BigInt(/≠ supply (\d+)/.exec(msg)![1]!);
    const sum = BigInt(/Σ balances (\d+)/.exec(msg)![1]!);
    expect(sum - supply).toBe(1_000_000n); // the report carries the exact discrepancy
    // nothing was committed, and a Commit now has nothing to commit
    expect(() => app.commit()).toThrow(/Commit without a finalized block/);
    expect(app.height).toBe(25n);
    app.close();
    expect(App.open({ dbPath: b.db }).height).toBe(25n);
  });

  it('each invariant the issue names is checked and detects a break of its own', () => {
    const b = buildHome(join(tmp, 'each'), 24, 43, 10);
    const names = invariantNames(App.open());
    for (const n of ['bank/supply', 'subaccounts/conservation-and-oi', 'clob/book', 'reliability/uusdc-ledger', 'reliability/open-orders', 'liquidation/index-complete', 'perpetuals/state']) expect(names).toContain(n);
    const breakAndCheck = (name: string, key: (app: App) => string, change: (v: Buffer) => Buffer, expectText: RegExp) => {
      const dir = join(tmp, `each-${name}`);
      rmSync(dir, { recursive: true, force: true });
      cpSync(b.home, dir, { recursive: true });
      const c = { db: join(dir, 'data', 'state.db') };
      const probe = App.open({ dbPath: c.db });
      const k = key(probe);
      probe.close();
      corruptValue(c.db, k, change);
      const app = App.open({ dbPath: c.db });
      const problems = allInvariantProblems(app);
      app.close();
      expect(problems.join('\n'), name).toMatch(expectText);
    };
    // conservation: a subaccount's collateral changed (pool ≠ claims; ledger off by the same amount)
    breakAndCheck(
      'collateral',
      (app) => app.state.scanTable('sub/acc/').find(([, v]) => perpchain.subaccounts.v1.Subaccount.decode(v).positions.length > 0)![0],
      (v) => {
        const s = perpchain.subaccounts.v1.Subaccount.decode(v);
        s.collateral = (BigInt(s.collateral) + 5n).toString();
        return Buffer.from(perpchain.subaccounts.v1.Subaccount.encode(s).finish());
      },
      /subaccounts\/conservation-and-oi: pool \d+ uusdc ≠ claims[\s\S]*reliability\/uusdc-ledger: uusdc not conserved/,
    );
    // OI long ≠ short: one position's size changed
    breakAndCheck(
      'oi',
      (app) => app.state.scanTable('sub/acc/').find(([, v]) => perpchain.subaccounts.v1.Subaccount.decode(v).positions.length > 0)![0],
      (v) => {
        const s = perpchain.subaccounts.v1.Subaccount.decode(v);
        s.positions[0]!.size = (BigInt(s.positions[0]!.size ?? 0) * 2n).toString();
        return Buffer.from(perpchain.subaccounts.v1.Subaccount.encode(s).finish());
      },
      /market \d: OI long \d+, short \d+, recorded \d+/,
    );
    // negative balance: a bank balance written as a negative number
    breakAndCheck('negative', () => `bank/bal/${b.traffic.traders[0]!.address}`, () => Buffer.from(encodeInt(-5n)), /holds -5 \(balances are positive or absent\)/);
    // filled + remaining = original, store vs book: an open order's filled amount changed in a (pending) state
    {
      const app = App.open({ dbPath: b.db });
      const [key, v] = app.state.scanTable(ORDER_TABLE).find(([, x]) => perpchain.clob.v1.Order.decode(x).triggered)!;
      const o = perpchain.clob.v1.Order.decode(v);
      o.filled = o.quantity;
      const pending = new Branch(app.state);
      pending.set(key, perpchain.clob.v1.Order.encode(o).finish());
      expect(app.runInvariants(pending).map((x) => `${x.invariant}: ${x.problems.join('; ')}`).join('\n')).toMatch(/clob\/book: clob\/ord\/[0-9a-f]+: filled (\d+) of \1 \(an open order has 0 ≤ filled < quantity\)/);
      app.close();
    }
    // no crossed book: a resting bid moved above the best ask on disk — the book is rebuilt from the store on start and refuses it
    {
      const dir = join(tmp, 'each-crossed');
      cpSync(b.home, dir, { recursive: true });
      const c = { db: join(dir, 'data', 'state.db') };
      const probe = App.open({ dbPath: c.db });
      const orders = probe.state.scanTable(ORDER_TABLE).map(([k, v]) => [k, perpchain.clob.v1.Order.decode(v)] as const).filter(([, o]) => o.triggered && o.marketId === 0);
      const ask = orders.filter(([, o]) => o.side === perpchain.clob.v1.Side.SIDE_SELL).reduce((m, [, o]) => (m === 0n || BigInt(o.price.toString()) < m ? BigInt(o.price.toString()) : m), 0n);
      const bidKey = orders.find(([, o]) => o.side === perpchain.clob.v1.Side.SIDE_BUY)![0];
      probe.close();
      corruptValue(c.db, bidKey, (v) => {
        const o = perpchain.clob.v1.Order.decode(v);
        o.price = Long.fromString((ask + 1_000_000n).toString(), true);
        return Buffer.from(perpchain.clob.v1.Order.encode(o).finish());
      });
      expect(() => App.open({ dbPath: c.db })).toThrow(/crosses the book/);
    }
    // filled + remaining = original is checked against the events (lib/orders-ledger.ts): a fill that does not add up is reported
    const ledger = new OrdersLedger();
    const ev = (type: string, a: Record<string, string>) => ({ type, attributes: Object.entries(a).map(([key, value]) => ({ key, value, index: false })) });
    const problems = ledger.block({
      appHash: new Uint8Array(),
      validatorUpdates: [],
      events: [],
      txResults: [{ code: 0, codespace: '', log: '', data: new Uint8Array(), gasWanted: 0n, gasUsed: 0n, events: [ev('clob.order_placed', { order_id: '9', quantity: '100' }), ev('clob.fill', { size: '30', taker_order_id: '10', maker_order_id: '9', maker_remaining: '60' })] }],
    });
    expect(problems).toEqual(['order 9: fill says remaining 60, accounting 70']);
  });

  it('`perpchain start --check-invariants`: the devnet node stops producing blocks with the report and commits nothing', async () => {
    const home = join(tmp, 'devnet');
    await initHome({ home, chainId: 'perpchain-inv-1', accounts: 1 });
    const start = (...flags: string[]) => {
      const p = startProc(process.execPath, [cli, 'start', '--home', home, '--api-port', '0', '--block-interval', '30', ...flags], { cwd: root });
      procs.push(p);
      return p;
    };
    const first = start();
    await first.waitFor(/^block 4 /, 60_000);
    await first.kill('SIGTERM');
    const dev0 = readDevAccounts(homePaths(home)).find((a) => a.name === 'dev0')!;
    corruptBalance(homePaths(home).db, dev0.address, 7n);
    const node = start('--check-invariants');
    const resumed = Number((await node.waitFor(/resuming chain \S+ at height (\d+)/, 60_000))[1]);
    const m = await node.waitFor(/invariant broken at height (\d+)/, 30_000);
    expect(Number(m[1])).toBe(resumed + 1);
    await new Promise((r) => setTimeout(r, 500));
    const out = node.lines.join('\n');
    expect(out).toMatch(/FATAL: block production stopped/);
    expect(out).toMatch(/bank\/supply:\n.*- Σ balances \d+ ≠ supply \d+/);
    expect(out).not.toMatch(new RegExp(`block ${resumed + 1} `)); // the broken block was never committed
    // stopped by a supervisor after the halt: the exit code still says something went wrong
    const ended = await node.kill('SIGTERM');
    expect(ended.code).toBe(1);
    const app = App.open({ dbPath: homePaths(home).db });
    expect(app.height).toBe(BigInt(resumed));
    app.close();
  });

  it('`perpchain abci --check-invariants`: FinalizeBlock is answered with an exception carrying the report (CometBFT halts), nothing is committed', async () => {
    const b = buildHome(join(tmp, 'abci'), 20, 47, 8);
    corruptBalance(b.db, b.traffic.traders[1]!.address, -3n);
    const addr = `unix://${join(tmp, 'abci.sock')}`;
    const p = startProc(process.execPath, [cli, 'abci', '--home', b.home, '--addr', addr, '--no-api', '--check-invariants'], { cwd: root });
    procs.push(p);
    await p.waitFor(/abci server listening on/, 60_000);
    const client = await AbciTestClient.connect(addr);
    const info = await client.call({ info: {} });
    expect(info.info?.lastBlockHeight).toBe(20n);
    const ref = App.open({ dbPath: b.db });
    const req = b.traffic.next(ref);
    ref.close();
    const r = await client.callRaw({ finalizeBlock: { txs: req.txs, height: req.height, time: { seconds: req.timeNs / 1_000_000_000n, nanos: Number(req.timeNs % 1_000_000_000n) }, hash: req.hash, proposerAddress: req.proposerAddress } });
    expect(r.exception?.error).toMatch(/invariant broken at height 21:/);
    expect(r.exception?.error).toMatch(/bank\/supply/);
    const again = await client.call({ info: {} });
    expect(again.info?.lastBlockHeight).toBe(20n);
    client.destroy();
    await p.kill('SIGTERM');
  });
});
