/**
 * Handshake on a fresh and on a populated home (over a unix socket):
 * Info, InitChain (genesis app_state and consensus params), repeated
 * InitChain before the first Commit, restart on the populated home.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { App, DEFAULT_CONSENSUS_PARAMS } from '../../chain/app.js';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient } from './client.js';
import { appFinalize, expectKind, finalizeRequest, hex, infoOf, initChainRequest, referenceChain, startTestServer, tempDir } from './harness.js';

describe('ABCI handshake', () => {
  const home = tempDir();
  const dbPath = join(home.dir, 'data', 'state.db');
  const sock = join(home.dir, 'abci.sock');
  const ref = referenceChain({ keys: testKeys(3, 'abci-handshake'), balance: 123_456_789n });
  afterAll(() => home.cleanup());

  it('fresh home: Info 0; InitChain twice before the first Commit; block 1; Info 1', async () => {
    mkdirSync(join(home.dir, 'data'));
    const app = App.open({ dbPath });
    const { server } = await startTestServer({ app, addr: `unix://${sock}` });
    const c = await AbciTestClient.connect(server.address);

    const info = await c.call({ info: { version: '0.38.25', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' } });
    expect(info.info).toMatchObject({ data: 'perpchain', appVersion: 1n, lastBlockHeight: 0n });
    expect(info.info!.lastBlockAppHash.length).toBe(0);

    const first = await c.call({ initChain: initChainRequest(ref.appState) });
    // CometBFT re-sends InitChain after any restart before the first Commit.
    const second = await c.call({ initChain: initChainRequest(ref.appState) });
    expect(hex(second.initChain!.appHash)).toBe(hex(first.initChain!.appHash));
    expect(first.initChain!.appHash.length).toBe(32);

    // Consensus params reach the App: max_gas and the vote-extension height.
    expect(app.consensusParams()).toEqual(DEFAULT_CONSENSUS_PARAMS);

    const tx = await ref.send(ref.keys[0]!, ref.keys[1]!.address, 42n);
    const fin = await c.call({ finalizeBlock: finalizeRequest(1n, [tx]) });
    const want = ref.app.finalizeBlock(appFinalize(1n, [tx]));
    ref.app.commit();
    expect(hex(fin.finalizeBlock!.appHash)).toBe(hex(want.appHash));
    await c.call({ commit: {} });
    expect(await infoOf(c)).toEqual([1n, hex(want.appHash)]);

    c.destroy();
    await server.close();
    app.close();
  });

  it('populated home: Info reports the committed height and hash; a second InitChain is refused with an exception', async () => {
    const app = App.open({ dbPath });
    const { server } = await startTestServer({ app, addr: `unix://${sock}` }); // the old socket file is gone or stale
    const c = await AbciTestClient.connect(server.address);
    expect(await infoOf(c)).toEqual([1n, hex(ref.app.appHash)]);
    const r = await c.callRaw({ initChain: initChainRequest(ref.appState) });
    expectKind(r, 'exception');
    expect(r.exception!.error).toMatch(/already at height 1/);
    c.destroy();
    await server.close();
    app.close();
  });

  it('InitChain params other than the defaults are stored; InitChain without params gets the App defaults back', async () => {
    const app = App.open({});
    const { server } = await startTestServer({ app });
    const c = await AbciTestClient.connect(server.address);
    const r = await c.call({ initChain: { ...initChainRequest(ref.appState, { maxGas: -1n }), consensusParams: { ...initChainRequest(ref.appState, { maxGas: -1n }).consensusParams!, abci: { voteExtensionsEnableHeight: 5n } } } });
    expect(r.initChain!.consensusParams).toBeUndefined();
    expect(app.consensusParams()).toEqual({ block: { maxBytes: 22_020_096n, maxGas: -1n }, abci: { voteExtensionsEnableHeight: 5n } });

    const app2 = App.open({});
    const { server: server2 } = await startTestServer({ app: app2 });
    const c2 = await AbciTestClient.connect(server2.address);
    const { consensusParams: _omit, ...noParams } = initChainRequest(ref.appState);
    const r2 = await c2.call({ initChain: noParams });
    // The App chose its own params, so CometBFT is told (complete block and abci groups).
    expect(r2.initChain!.consensusParams?.block).toEqual({ maxBytes: 22_020_096n, maxGas: 200_000_000n });
    expect(r2.initChain!.consensusParams?.abci).toEqual({ voteExtensionsEnableHeight: 0n });
    for (const x of [c, c2]) x.destroy();
    await server.close();
    await server2.close();
    app.close();
    app2.close();
  });

  it('a second server on a live unix socket is refused; a stale socket file is replaced', async () => {
    const app = App.open({});
    const path = join(home.dir, 'live.sock');
    const { server } = await startTestServer({ app, addr: `unix://${path}` });
    await expect(startTestServer({ app, addr: `unix://${path}` })).rejects.toThrow(/another process is serving/);
    await server.close();

    // A process killed with SIGKILL leaves its socket file behind.
    const stalePath = join(home.dir, 'stale.sock');
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    expect(existsSync(stalePath)).toBe(true);
    const { server: again } = await startTestServer({ app, addr: `unix://${stalePath}` });
    const c = await AbciTestClient.connect(again.address);
    expect((await c.call({ echo: { message: 'fresh' } })).echo!.message).toBe('fresh');
    c.destroy();
    await again.close();
    expect(existsSync(stalePath)).toBe(false);
    app.close();
  });
});
