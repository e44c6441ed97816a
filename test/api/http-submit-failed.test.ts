/**
 * POST /tx when the node cannot hand the tx on (in ABCI mode: CometBFT's RPC unreachable). It used to fall
 * into the catch-all and answer `400 bad_request`, blaming the client for a server-side failure and giving no
 * check_tx; it is `502 submit_failed`, as the WebSocket's `submit_tx` says. A body that is not a tx is still the
 * client's fault (400), and nothing reaches the submitter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer, type SubmitResult, type TxSubmitter } from '../../chain/api/index.js';
import { FakeApp } from './fake-app.js';

class UnreachableChain implements TxSubmitter {
  readonly kind = 'comet-rpc';
  calls = 0;
  async submit(): Promise<SubmitResult> {
    this.calls++;
    throw new Error('CometBFT RPC http://127.0.0.1:1 unreachable: fetch failed');
  }
  onDropped(): void {}
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('POST /tx when the chain cannot be reached', () => {
  it('answers 502 submit_failed with the reason; a malformed body is still 400 and never submitted', async () => {
    const submitter = new UnreachableChain();
    const api = new ApiServer({ app: new FakeApp(), submitter, host: '127.0.0.1', port: 0, serveWeb: false });
    const { port } = await api.listen();
    closers.push(() => api.close());
    const res = await fetch(`http://127.0.0.1:${port}/tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tx: Buffer.from('signed tx bytes').toString('base64') }) });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('submit_failed');
    expect(body.error.message).toMatch(/could not hand the tx to the chain: CometBFT RPC .* unreachable/);
    expect(submitter.calls).toBe(1);

    const bad = await fetch(`http://127.0.0.1:${port}/tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tx": 5}' });
    expect(bad.status).toBe(400);
    expect(submitter.calls).toBe(1);
  });
});
