/**
 * Crash recovery with the server in a child process: SIGKILL between
 * FinalizeBlock and Commit, restart on the same home, Info reports the last
 * committed height, CometBFT's replay (FinalizeBlock + Commit) gives the same
 * app hash. Also a kill before the first Commit (InitChain is sent again).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { CheckTxType } from 'cosmjs-types/tendermint/abci/types';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient, encodeRequest } from './client.js';
import { appFinalize, expectKind, finalizeRequest, hex, infoOf, initChainRequest, referenceChain, tempDir } from './harness.js';

interface Child {
  proc: ChildProcess;
  address: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string[];
}

function startChild(dbPath: string, addr: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join('test', 'abci', 'fixtures', 'abci-child.ts'), dbPath, addr], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child did not start: ${stderr.join('')}`)), 45_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, address: m[1]!, exited, stderr });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before listening: ${stderr.join('')}`));
    });
  });
}

async function kill9(c: Child): Promise<void> {
  c.proc.kill('SIGKILL');
  const r = await c.exited;
  expect(r.signal).toBe('SIGKILL');
}

describe('ABCI crash recovery (server in a child process)', () => {
  const homes: Array<() => void> = [];
  const children: Child[] = [];
  afterAll(() => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    for (const h of homes) h();
  });

  it('SIGKILL between FinalizeBlock and Commit: restart, Info shows the old height, replay gives the same app hash', async () => {
    const home = tempDir();
    homes.push(home.cleanup);
    const dbPath = join(home.dir, 'state.db');
    const ref = referenceChain({ keys: testKeys(3, 'abci-crash'), balance: 1_000_000_000n });
    const [a, b, c] = ref.keys;

    let child = await startChild(dbPath, 'tcp://127.0.0.1:0');
    children.push(child);
    let cons = await AbciTestClient.connect(child.address);
    expect(await infoOf(cons)).toEqual([0n, '']);
    expectKind(await cons.call({ initChain: initChainRequest(ref.appState) }), 'initChain');

    const hashes: string[] = [''];
    for (let h = 1n; h <= 5n; h++) {
      const txs = [await ref.send(a!, b!.address, h), await ref.send(b!, c!.address, 2n * h)];
      const fin = await cons.call({ finalizeBlock: finalizeRequest(h, txs) });
      const want = ref.app.finalizeBlock(appFinalize(h, txs));
      expect(fin.finalizeBlock!.txResults.map((r) => r.code)).toEqual([0, 0]);
      expect(hex(fin.finalizeBlock!.appHash)).toBe(hex(want.appHash));
      ref.app.commit();
      expectKind(await cons.call({ commit: {} }), 'commit');
      hashes.push(hex(want.appHash));
    }

    // Height 6: the mempool sees a tx, the block is finalized, and the process dies before Commit.
    const txs6 = [await ref.send(c!, a!.address, 77n), await ref.send(a!, c!.address, 11n)];
    const mem = await AbciTestClient.connect(child.address);
    await mem.writeRaw(Buffer.concat([encodeRequest({ checkTx: { tx: txs6[0]!, type: CheckTxType.NEW } }), encodeRequest({ flush: {} })]));
    expect((await mem.next()).checkTx!.code).toBe(0);
    const fin6 = await cons.call({ finalizeBlock: finalizeRequest(6n, txs6) });
    const hash6 = hex(fin6.finalizeBlock!.appHash);
    await kill9(child);

    child = await startChild(dbPath, 'tcp://127.0.0.1:0');
    children.push(child);
    cons = await AbciTestClient.connect(child.address);
    const query = await AbciTestClient.connect(child.address);
    // Nothing of height 6 was persisted.
    expect(await infoOf(query)).toEqual([5n, hashes[5]]);
    // CometBFT replays the stored block: FinalizeBlock + Commit.
    const replay = await cons.call({ finalizeBlock: finalizeRequest(6n, txs6) });
    expect(hex(replay.finalizeBlock!.appHash)).toBe(hash6);
    const want6 = ref.app.finalizeBlock(appFinalize(6n, txs6));
    expect(hex(want6.appHash)).toBe(hash6);
    expect(replay.finalizeBlock!.txResults.map((r) => r.code)).toEqual(want6.txResults.map((r) => r.code));
    ref.app.commit();
    expectKind(await cons.call({ commit: {} }), 'commit');
    expect(await infoOf(query)).toEqual([6n, hash6]);

    // A clean stop: SIGTERM closes the server and the App and exits 0.
    cons.destroy();
    query.destroy();
    child.proc.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);

    // ... and the home is still good.
    child = await startChild(dbPath, `unix://${join(home.dir, 'abci.sock')}`);
    children.push(child);
    const q2 = await AbciTestClient.connect(child.address);
    expect(await infoOf(q2)).toEqual([6n, hash6]);
    q2.destroy();
    await kill9(child);
  }, 90_000);

  it('SIGKILL after InitChain but before the first Commit: Info says 0 and InitChain is accepted again', async () => {
    const home = tempDir();
    homes.push(home.cleanup);
    const dbPath = join(home.dir, 'state.db');
    const ref = referenceChain({ keys: testKeys(2, 'abci-crash-genesis'), balance: 5_000_000n });

    let child = await startChild(dbPath, 'tcp://127.0.0.1:0');
    children.push(child);
    let cons = await AbciTestClient.connect(child.address);
    const first = await cons.call({ initChain: initChainRequest(ref.appState) });
    const tx = await ref.send(ref.keys[0]!, ref.keys[1]!.address, 1n);
    await cons.call({ finalizeBlock: finalizeRequest(1n, [tx]) });
    await kill9(child);

    child = await startChild(dbPath, 'tcp://127.0.0.1:0');
    children.push(child);
    cons = await AbciTestClient.connect(child.address);
    expect(await infoOf(cons)).toEqual([0n, '']);
    const again = await cons.call({ initChain: initChainRequest(ref.appState) });
    expect(hex(again.initChain!.appHash)).toBe(hex(first.initChain!.appHash));
    const fin = await cons.call({ finalizeBlock: finalizeRequest(1n, [tx]) });
    const want = ref.app.finalizeBlock(appFinalize(1n, [tx]));
    expect(hex(fin.finalizeBlock!.appHash)).toBe(hex(want.appHash));
    await cons.call({ commit: {} });
    expect(await infoOf(cons)).toEqual([1n, hex(want.appHash)]);
    cons.destroy();
    await kill9(child);
  }, 90_000);
});
