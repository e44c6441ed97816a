/**
 * CometBFT's mempool refusals as our tx codes (chain/api/submitter.ts mempoolRefusal), edges the submitter
 * test leaves open (mutation round): the answer carries the tx's own hash in CometBFT's upper-case form (the
 * hash a client then asks `tx` about), an "already in the cache" refusal names that hash, the patterns are
 * case-insensitive, and an unknown error is no refusal.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CometRpcSubmitter, txHashHex } from '../../chain/api/index.js';
import { mempoolRefusal } from '../../chain/api/submitter.js';

function fakeComet(error: (tx: Buffer) => unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body) as { id: number; params: { tx: string } };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: j.id, error: error(Buffer.from(j.params.tx, 'base64')) }));
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

describe('mempoolRefusal', () => {
  it('maps each refusal, whatever its case, and nothing else', () => {
    expect(mempoolRefusal('Internal error: tx already exists in cache', 'AB12')).toEqual({ code: 26, codespace: 'tx', log: expect.stringContaining('AB12') });
    expect(mempoolRefusal('MEMPOOL IS FULL: number of txs 5000', 'AB12')).toMatchObject({ code: 25, codespace: 'tx' });
    expect(mempoolRefusal('mempool is Still Rechecking after a new committed block', 'AB12')).toMatchObject({ code: 25, codespace: 'tx' });
    expect(mempoolRefusal('TX PRE CHECK: tx size is too big', 'AB12')).toMatchObject({ code: 2, codespace: 'tx' });
    expect(mempoolRefusal('Internal error: appConn mempool: connection refused', 'AB12')).toBeUndefined();
    expect(mempoolRefusal('', 'AB12')).toBeUndefined();
  });
});

describe('CometRpcSubmitter: a refusal answers with the tx hash', () => {
  const closers: Array<() => void> = [];
  afterAll(() => closers.forEach((c) => c()));

  it('upper-case sha256 of the bytes, for every mapped refusal', async () => {
    const data: Record<string, string> = { dup: 'tx already exists in cache', full: 'mempool is full', large: 'Tx too large. Max size is 1, but got 2' };
    const rpc = await fakeComet((tx) => ({ code: -32603, message: 'Internal error', data: data[tx.toString()] }));
    closers.push(() => rpc.server.close());
    const s = new CometRpcSubmitter({ url: rpc.url });
    for (const name of Object.keys(data)) {
      const r = await s.submit(Buffer.from(name));
      expect(r.hash).toBe(txHashHex(Buffer.from(name)));
      expect(r.hash).toMatch(/^[0-9A-F]{64}$/);
    }
    expect((await s.submit(Buffer.from('dup'))).log).toContain(txHashHex(Buffer.from('dup')));
  });
});
