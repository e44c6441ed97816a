/**
 * Pipelining: many requests written before any response is read come back
 * in order; Flush is answered after everything before it; the server keeps
 * reading while the client is not reading its responses; prefetched CheckTx
 * bursts answer exactly what the App answers one by one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckTxType } from 'cosmjs-types/tendermint/abci/types';
import { App } from '../../chain/app.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import type { AbciServer } from '../../chain/abci/index.js';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient, encodeRequest, kindOf } from './client.js';
import { appFinalize, expectKind, finalizeRequest, initChainRequest, referenceChain, startTestServer } from './harness.js';

describe('ABCI pipelining and ordering', () => {
  const pool = new VerifyPool(2);
  const keys = testKeys(8, 'abci-pipe');
  const ref = referenceChain({ keys, balance: 1_000_000_000n });
  let app: App;
  let server: AbciServer;
  let cons: AbciTestClient;

  beforeAll(async () => {
    app = App.open({ verifyPool: pool });
    ({ server } = await startTestServer({ app }));
    cons = await AbciTestClient.connect(server.address);
    await cons.call({ initChain: initChainRequest(ref.appState) });
    await cons.call({ finalizeBlock: finalizeRequest(1n, []) });
    await cons.call({ commit: {} });
    ref.app.finalizeBlock(appFinalize(1n, []));
    ref.app.commit();
  });

  afterAll(async () => {
    cons?.destroy();
    await server?.close();
    app?.close();
    await pool.close();
  });

  it('800 CheckTx (with echoes and garbage among them) written at once come back in order, equal to the App one by one', async () => {
    const txs: Uint8Array[] = [];
    for (let round = 0; round < 100; round++) for (const k of keys) txs.push(await ref.send(k, keys[(round + 1) % keys.length]!.address, 1n));
    const frames: Buffer[] = [];
    const expected: Array<{ kind: 'checkTx'; code: number } | { kind: 'echo'; message: string }> = [];
    const check = (bytes: Uint8Array) => {
      frames.push(encodeRequest({ checkTx: { tx: bytes, type: CheckTxType.NEW } }));
      expected.push({ kind: 'checkTx', code: ref.app.checkTx({ tx: bytes, type: 'new' }).code });
    };
    txs.forEach((tx, i) => {
      check(tx);
      if (i % 37 === 5) check(Buffer.from('not a tx at all ' + i));
      if (i % 50 === 49) {
        frames.push(encodeRequest({ echo: { message: `echo ${i}` } }));
        expected.push({ kind: 'echo', message: `echo ${i}` });
      }
    });
    frames.push(encodeRequest({ flush: {} }));
    const mem = await AbciTestClient.connect(server.address);
    await mem.writeRaw(Buffer.concat(frames)); // one write: the server sees the whole burst at once
    const got = await mem.nextN(expected.length + 1);
    expect(kindOf(got[expected.length]!)).toBe('flush');
    const shape = got.slice(0, -1).map((r) => (r.checkTx ? { kind: 'checkTx', code: r.checkTx.code } : { kind: kindOf(r), message: r.echo?.message }));
    expect(shape).toEqual(expected);
    expect(expected.filter((e) => e.kind === 'checkTx' && e.code !== 0).length).toBe(22); // the garbage ones, and only those
    mem.destroy();
  });

  it('Flush is answered after every earlier response, between and after bursts', async () => {
    const mem = await AbciTestClient.connect(server.address);
    const k = keys[0]!;
    const t1 = await ref.send(k, keys[1]!.address, 3n);
    const t2 = await ref.send(k, keys[1]!.address, 4n);
    ref.app.checkTx({ tx: t1, type: 'new' });
    ref.app.checkTx({ tx: t2, type: 'new' });
    await mem.writeRaw(
      Buffer.concat([
        encodeRequest({ checkTx: { tx: t1, type: CheckTxType.NEW } }),
        encodeRequest({ flush: {} }),
        encodeRequest({ echo: { message: 'a' } }),
        encodeRequest({ checkTx: { tx: t2, type: CheckTxType.NEW } }),
        encodeRequest({ info: {} }),
        encodeRequest({ flush: {} }),
        encodeRequest({ flush: {} }),
      ]),
    );
    const got = await mem.nextN(7);
    expect(got.map(kindOf)).toEqual(['checkTx', 'flush', 'echo', 'checkTx', 'info', 'flush', 'flush']);
    expect(got[0]!.checkTx!.code).toBe(0);
    expect(got[3]!.checkTx!.code).toBe(0);
    mem.destroy();
  });

  it('requests split at every byte boundary are still answered in order', async () => {
    const c = await AbciTestClient.connect(server.address);
    const bytes = Buffer.concat(Array.from({ length: 20 }, (_, i) => encodeRequest({ echo: { message: 'x'.repeat(i * 13) } })).concat(encodeRequest({ flush: {} })));
    for (let i = 0; i < bytes.length; i += 7) {
      await c.writeRaw(bytes.subarray(i, i + 7));
      if (i % 70 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    const got = await c.nextN(21);
    expect(got.slice(0, 20).map((r) => r.echo!.message.length)).toEqual(Array.from({ length: 20 }, (_, i) => i * 13));
    expectKind(got[20]!, 'flush');
    c.destroy();
  });

  it('keeps reading while the client does not read: 16 MiB of requests go in before any response is taken', async () => {
    const c = await AbciTestClient.connect(server.address);
    c.socket.pause(); // like a client busy writing: it reads nothing until its write is done
    const n = 8000;
    const payload = 'p'.repeat(2048);
    const big = Buffer.concat([...Array.from({ length: n }, (_, i) => encodeRequest({ echo: { message: `${i}:${payload}` } })), encodeRequest({ flush: {} })]);
    // Resolves only once the kernel took every byte, i.e. the server kept reading although
    // its own responses could not be delivered.
    await c.writeRaw(big);
    c.socket.resume();
    const got = await c.nextN(n + 1, 60_000);
    expect(got.slice(0, n).every((r, i) => r.echo?.message.startsWith(`${i}:`))).toBe(true);
    expectKind(got[n]!, 'flush');
    c.destroy();
  });

  it('connections are independent: a slow FinalizeBlock on one does not reorder another', async () => {
    const mem = await AbciTestClient.connect(server.address);
    const txs: Uint8Array[] = [];
    for (const k of keys) txs.push(await ref.send(k, keys[0]!.address, 1n));
    // FinalizeBlock (async in the App) and a CheckTx burst on the mempool connection at the same time.
    const fin = cons.call({ finalizeBlock: finalizeRequest(2n, txs) });
    const more = await ref.send(keys[3]!, keys[4]!.address, 9n);
    await mem.writeRaw(Buffer.concat([encodeRequest({ echo: { message: 'first' } }), encodeRequest({ checkTx: { tx: more, type: CheckTxType.NEW } }), encodeRequest({ echo: { message: 'last' } }), encodeRequest({ flush: {} })]));
    const got = await mem.nextN(4);
    expect(got.map(kindOf)).toEqual(['echo', 'checkTx', 'echo', 'flush']);
    const r = await fin;
    expect(r.finalizeBlock!.txResults.length).toBe(txs.length);
    await cons.call({ commit: {} });
    mem.destroy();
  });
});
