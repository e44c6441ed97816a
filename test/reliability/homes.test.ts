/**
 * Homes that are valid but unusual, and homes that were damaged: regressions from a review of genesis,
 * persistence and `perpchain verify`. A devnet genesis starting at initial_height 100; a genesis refused
 * with the field named (chain id, block size, an unclaimed pool balance); a block log whose height was
 * changed on disk; verify on a live home (the node keeps committing) and on a CometBFT home (genesis
 * validators in the state).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { App } from '../../chain/app.js';
import { consensusParamsOf, homePaths, initHome, readGenesis, rfc3339ToNs } from '../../chain/devnet/home.js';
import { LAST_BLOCK_TIME_KEY } from '../../chain/block-time.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { moduleAddress } from '../../chain/codec/address.js';
import { verifyChain, formatVerifyResult } from '../../chain/verify/index.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { testKeys } from '../helpers/keys.js';
import { startProc, type Proc } from '../helpers/proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-homes-'));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

async function home(name: string, edit: (g: Record<string, any>) => void = () => {}): Promise<string> {
  const dir = join(tmp, name);
  await initHome({ home: dir, chainId: 'perpchain-homes-1', accounts: 1 });
  const paths = homePaths(dir);
  const g = JSON.parse(readFileSync(paths.genesis, 'utf8')) as Record<string, any>;
  edit(g);
  writeFileSync(paths.genesis, JSON.stringify(g, null, 2));
  const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as Record<string, any>;
  cfg.feeder = { ...(cfg.feeder ?? {}), enabled: false };
  writeFileSync(paths.config, JSON.stringify(cfg));
  return dir;
}

describe('devnet genesis', () => {
  it('a genesis with initial_height 100 makes block 100 first (it halted asking for height 1)', async () => {
    const dir = await home('ih100', (g) => (g.initial_height = '100'));
    const node = await DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: () => {} });
    try {
      expect((await node.produce()).height).toBe(100n);
      expect((await node.produce()).height).toBe(101n);
    } finally {
      await node.stop();
    }
  });

  it('block times never go back: a genesis in the future gives blocks just after it (they came before it, and funding never ran)', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const dir = await home('future', (g) => (g.genesis_time = future));
    const logs: string[] = [];
    const node = await DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: (l) => logs.push(l) });
    try {
      await node.produce();
      await node.produce();
      const t = BigInt(Buffer.from(node.app.state.get(LAST_BLOCK_TIME_KEY)!).toString());
      expect(t).toBe(rfc3339ToNs(future) + 2_000_000n);
      expect(logs.some((l) => /ahead of this machine's clock/.test(l))).toBe(true);
    } finally {
      await node.stop();
    }
  });

  it('refuses a genesis whose chain id, block size or pool balance cannot work, naming the field', async () => {
    const cases: Array<[string, (g: Record<string, any>) => void, RegExp]> = [
      ['chain-array', (g) => (g.chain_id = ['abc']), /chain_id/],
      ['chain-long', (g) => (g.chain_id = 'x'.repeat(51)), /chain_id must be 1 to 50 printable/],
      ['max-bytes-0', (g) => (g.consensus_params.block.max_bytes = '100'), /max_bytes must be at least 1024/],
      ['height-abc', (g) => (g.initial_height = 'abc'), /initial_height must be an integer/],
      ['no-app-state', (g) => delete g.app_state, /app_state/],
      ['pool', (g) => g.app_state.bank.balances.push({ address: moduleAddress('subaccounts'), amount: '5000000' }), /margin pool .* must start empty/],
    ];
    for (const [name, edit, want] of cases) {
      const dir = await home(name, edit);
      await expect(DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: () => {} }), name).rejects.toThrow(want);
    }
    // max_bytes -1 is CometBFT's "as large as allowed" (100 MiB), not "no tx fits": the built-in feeder's txs get in
    const big = await home('max-bytes-minus-1', (g) => (g.consensus_params.block.max_bytes = '-1'));
    const cfgPath = homePaths(big).config;
    writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), feeder: undefined }));
    const node = await DevnetNode.start({ home: big, apiPort: 0, autoProduce: false, log: () => {} });
    try {
      expect(node.app.consensusParams().block.maxBytes).toBe(-1n); // stored as written (state, as under CometBFT)
      let txs = 0;
      for (let i = 0; i < 4; i++) txs += (await node.produce()).txs.length;
      expect(txs).toBeGreaterThan(0);
    } finally {
      await node.stop();
    }
  });
});

describe('the documented CometBFT genesis (docs/cometbft/genesis.json)', () => {
  it('passes the genesis checks and InitChain, with markets, an authority, a feeder and no module account funded', () => {
    const path = join(root, 'docs', 'cometbft', 'genesis.json');
    const g = readGenesis({ genesis: path } as never) as unknown as { chain_id: string; app_state: Record<string, any> };
    const app = App.open({});
    app.initChain({ chainId: g.chain_id, timeNs: 1_767_225_600_000_000_000n, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(g.app_state)), consensusParams: consensusParamsOf(g as never) });
    app.finalizeBlock({ txs: [], height: 1n, timeNs: 1_767_225_601_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    app.commit();
    expect(app.keepers.perpetuals.markets(app.state).map((m) => m.ticker)).toEqual(['BTC-USD', 'ETH-USD']);
    for (const b of g.app_state.bank.balances as Array<{ address: string }>) expect(app.keepers.bank.isBlocked(b.address)).toBe(false);
    expect(app.runInvariants()).toEqual([]);
  });
});

describe('a damaged store', () => {
  it('a committed height changed on disk is refused at start (it resumed there and overwrote the logged blocks)', async () => {
    const dir = await home('height');
    const node = await DevnetNode.start({ home: dir, apiPort: 0, autoProduce: false, log: () => {} });
    for (let i = 0; i < 6; i++) await node.produce();
    await node.stop();
    const db = join(dir, 'data', 'state.db');
    const raw = new Database(db);
    raw.prepare("UPDATE meta SET value = ? WHERE name = 'height'").run(Buffer.from('3'));
    raw.close();
    expect(() => App.open({ dbPath: db })).toThrow(/block log holds height 6, above the committed height 3/);
  });
});

describe('perpchain verify', () => {
  it('on a live home: the node keeps committing every 20 ms and every run still verifies', async () => {
    const dir = await home('live');
    const node = startProc(process.execPath, [cli, 'start', '--home', dir, '--api-port', '0', '--block-interval', '20'], { cwd: root });
    procs.push(node);
    await node.waitFor(/^block 40 /, 60_000);
    for (let i = 0; i < 3; i++) {
      const v = startProc(process.execPath, [cli, 'verify', '--home', dir], { cwd: root });
      procs.push(v);
      const exit = await v.exited;
      expect(v.lines.join('\n'), `run ${i}`).toMatch(/OK: every recorded app hash matches the replay/);
      expect(exit.code).toBe(0);
    }
    await node.kill('SIGTERM');
  });

  it('on a CometBFT home: the InitChain request the node received is replayed (validators, time, params), not the home\'s genesis.json', () => {
    const dir = join(tmp, 'cometbft');
    const keys = testKeys(2, 'homes');
    const priv = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)]), format: 'der', type: 'pkcs8' });
    const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(12);
    const genesis = {
      genesis_time: '2026-01-01T00:00:00Z',
      chain_id: 'perpchain-cmt-1',
      initial_height: '1',
      consensus_params: { block: { max_bytes: '-1', max_gas: '200000000' }, abci: { vote_extensions_enable_height: '0' } }, // (-1 reaches the App as -1)
      validators: [{ address: '', pub_key: { type: 'tendermint/PubKeyEd25519', value: Buffer.from(pub).toString('base64') }, power: '10', name: 'v0' }],
      app_hash: '',
      app_state: { ...marketsAppState(keys[0]!.address, [keys[1]!.address]), bank: { balances: [{ address: keys[1]!.address, amount: '1000000' }] } },
    };
    const paths = homePaths(dir);
    for (const d of [dirname(paths.genesis), join(dir, 'data')]) mkdirSync(d, { recursive: true });
    writeFileSync(paths.genesis, JSON.stringify(genesis));
    // what `perpchain abci` does with CometBFT's InitChain, then three blocks
    const app = App.open({ dbPath: join(dir, 'data', 'state.db') });
    app.initChain({
      chainId: genesis.chain_id,
      timeNs: 1_767_225_600_000_000_000n,
      initialHeight: 1n,
      appStateBytes: Buffer.from(JSON.stringify(genesis.app_state)),
      consensusParams: { block: { maxBytes: -1n, maxGas: 200_000_000n }, abci: { voteExtensionsEnableHeight: 0n } },
      validators: [{ pubKeyType: 'ed25519', pubKeyBytes: new Uint8Array(pub), power: 10n }],
    });
    for (let h = 1n; h <= 3n; h++) {
      app.finalizeBlock({ txs: [], height: h, timeNs: 1_767_225_600_000_000_000n + h * 1_000_000_000n, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
      app.commit();
    }
    app.close();
    const r = verifyChain({ home: dir });
    expect(formatVerifyResult(r)).toMatch(/^OK: /m);
    // the home's own genesis.json as `perpchain init` wrote it (another time, no validators): --home still
    // replays what InitChain received (recorded in the store); an explicit --genesis of that file does not match
    writeFileSync(paths.genesis, JSON.stringify({ ...genesis, genesis_time: '2026-02-02T00:00:00Z', validators: [] }));
    const again = verifyChain({ home: dir });
    expect(formatVerifyResult(again)).toMatch(/^OK: /m);
    expect(again.genesis).toMatch(/InitChain request recorded/);
    expect(verifyChain({ genesis: paths.genesis, db: join(dir, 'data', 'state.db') }).mismatch?.height).toBe(1n);
  });
});

