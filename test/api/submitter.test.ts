/**
 * ABCI mode's tx path: CometRpcSubmitter against a stand-in for CometBFT's
 * JSON-RPC (broadcast_tx_sync), and the API server running on it with an
 * in-memory App whose committed blocks provide the inclusion results.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiServer, CometRpcSubmitter, txHashHex } from '../../chain/api/index.js';
import { TestChain } from '../helpers/chain.js';
import { PerpchainClient } from '../../client/index.js';

function fakeComet(handler: (tx: Buffer) => { result?: unknown; error?: unknown }): Promise<{ url: string; server: Server; seen: Buffer[] }> {
  const seen: Buffer[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body) as { id: number; method: string; params: { tx: string } };
      expect(j.method).toBe('broadcast_tx_sync');
      const tx = Buffer.from(j.params.tx, 'base64');
      seen.push(tx);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: j.id, ...handler(tx) }));
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen })));
}

describe('CometRpcSubmitter (ABCI mode)', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
  });

  it('maps broadcast_tx_sync answers and errors', async () => {
    const rpc = await fakeComet((tx) =>
      tx.toString() === 'dup' ? { error: { code: -32603, message: 'Internal error', data: 'tx already exists in cache' } } : { result: { code: tx.toString() === 'bad' ? 3 : 0, codespace: tx.toString() === 'bad' ? 'tx' : '', log: '', data: '', hash: txHashHex(tx) } },
    );
    closers.push(() => void rpc.server.close());
    const s = new CometRpcSubmitter({ url: rpc.url });
    const ok = await s.submit(Buffer.from('good'));
    expect(ok).toMatchObject({ code: 0, hash: txHashHex(Buffer.from('good')) });
    expect((await s.submit(Buffer.from('bad'))).code).toBe(3);
    expect(await s.submit(Buffer.from('dup'))).toMatchObject({ code: 26, codespace: 'tx' });
    await expect(new CometRpcSubmitter({ url: 'http://127.0.0.1:1', timeoutMs: 500 }).submit(Buffer.from('x'))).rejects.toThrow(/unreachable/);
  });

  it('gives CometBFT\'s mempool refusals our registered codes, and any other RPC error fails the submission (POST /tx 502)', async () => {
    const errors: Record<string, { code: number; message: string; data: string }> = {
      full: { code: -32603, message: 'Internal error', data: 'mempool is full: number of txs 5000 (max: 5000), total txs bytes 1024 (max: 1073741824)' },
      rechecking: { code: -32603, message: 'Internal error', data: 'mempool is still rechecking after a new committed block, so it is considered as full' },
      large: { code: -32603, message: 'Internal error', data: 'Tx too large. Max size is 1048576, but got 1048577' },
      precheck: { code: -32603, message: 'Internal error', data: 'tx pre check: tx size is too big: 2000000, max: 1048576' },
      other: { code: -32603, message: 'Internal error', data: 'appConn mempool: connection refused' },
    };
    const rpc = await fakeComet((tx) => ({ error: errors[tx.toString()] }));
    closers.push(() => void rpc.server.close());
    const s = new CometRpcSubmitter({ url: rpc.url });
    for (const name of ['full', 'rechecking']) {
      const r = await s.submit(Buffer.from(name));
      expect([r.codespace, r.code]).toEqual(['tx', 25]);
      expect(r.log).toMatch(/^mempool is full: CometBFT answered ".*"; submit it again later$/);
    }
    for (const name of ['large', 'precheck']) expect(await s.submit(Buffer.from(name))).toMatchObject({ codespace: 'tx', code: 2, log: expect.stringMatching(/^transaction too large: CometBFT answered/) });
    await expect(s.submit(Buffer.from('other'))).rejects.toThrow(/refused broadcast_tx_sync: Internal error: appConn mempool: connection refused/);

    const api = new ApiServer({ app: TestChain.create({ accounts: 1 }).app, submitter: s, host: '127.0.0.1', port: 0, serveWeb: false });
    const { port } = await api.listen();
    closers.push(() => api.close());
    const post = async (name: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx: Buffer.from(name).toString('base64') }) });
      return { status: res.status, body: (await res.json()) as { error?: { code: string }; check_tx?: { code: number; codespace: string } } };
    };
    expect(await post('full')).toMatchObject({ status: 400, body: { check_tx: { codespace: 'tx', code: 25 } } });
    expect(await post('other')).toMatchObject({ status: 502, body: { error: { code: 'submit_failed' } } });
  });

  it('serves the API with txs forwarded to CometBFT and inclusion taken from the blocks the App commits', async () => {
    const chain = TestChain.create({ accounts: 2, balance: 10_000_000n });
    chain.block();
    const rpc = await fakeComet((tx) => ({ result: { code: 0, codespace: '', log: '', data: '', hash: txHashHex(tx) } }));
    const api = new ApiServer({ app: chain.app, submitter: new CometRpcSubmitter({ url: rpc.url }), host: '127.0.0.1', port: 0 });
    const addr = await api.listen();
    closers.push(() => void rpc.server.close(), () => api.close());
    const client = await PerpchainClient.connect({ url: `ws://127.0.0.1:${addr.port}` });
    closers.push(() => client.close());
    const tx = await chain.send(chain.keys[0]!, chain.keys[1]!.address, 1234n);
    const sub = await client.submitTx(tx);
    expect(sub.checkTx.code).toBe(0);
    expect(rpc.seen.length).toBe(1);
    // "CometBFT" decides the block; the App commits it; the API reports the inclusion
    chain.block([rpc.seen[0]!]);
    const inc = await sub.inclusion;
    expect(inc).toMatchObject({ status: 'included', code: 0, height: 2, hash: sub.hash });
    expect((await client.status()).submitter).toBe('cometbft-rpc');
  });
});
