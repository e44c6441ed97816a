/**
 * Malformed input and App failures: each is answered with
 * Response.exception (and logged); a broken byte stream also closes its
 * connection; nothing crashes, and another connection keeps working
 * throughout.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { App } from '../../chain/app.js';
import type { AbciApp, AbciServer } from '../../chain/abci/index.js';
import { TestChain } from '../helpers/chain.js';
import { testKeys } from '../helpers/keys.js';
import { AbciTestClient, encodeRequest, frame, kindOf, uvarint } from './client.js';
import { expectKind, finalizeRequest, initChainRequest, processRequest, startTestServer, tempDir, type LogLine } from './harness.js';

const MAX_FRAME = 64 * 1024;

describe('ABCI malformed frames', () => {
  let app: App;
  let server: AbciServer;
  let logs: LogLine[];
  let witness: AbciTestClient;
  const home = tempDir();

  beforeAll(async () => {
    app = App.open({});
    ({ server, logs } = await startTestServer({ app, addr: `unix://${join(home.dir, 'abci.sock')}`, maxFrameBytes: MAX_FRAME }));
    witness = await AbciTestClient.connect(server.address);
  });

  // The other connection works before and after every case.
  afterEach(async () => {
    expect((await witness.call({ echo: { message: 'still here' } })).echo!.message).toBe('still here');
  });

  afterAll(async () => {
    witness?.destroy();
    await server?.close();
    app?.close();
    home.cleanup();
  });

  async function expectExceptionThenClose(c: AbciTestClient, match: RegExp): Promise<void> {
    const r = await c.next();
    expectKind(r, 'exception');
    expect(r.exception!.error).toMatch(match);
    await c.closed;
    expect(logs.some((l) => l.level === 'error' && match.test(l.message))).toBe(true);
  }

  it('a length prefix longer than 10 bytes: exception, connection closed', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(Buffer.alloc(11, 0xff));
    await expectExceptionThenClose(c, /varint/);
  });

  it('a varint overflowing 64 bits: exception, connection closed', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await expectExceptionThenClose(c, /over 64 bits/);
  });

  it('a huge length prefix is refused at once (before any body arrives): exception, connection closed', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(uvarint(2 ** 40));
    await expectExceptionThenClose(c, /exceeds the limit/);
  });

  it('a frame just over the configured maxFrameBytes is refused; one at the limit is served', async () => {
    const ok = await AbciTestClient.connect(server.address);
    // An echo whose Request body is exactly MAX_FRAME bytes: 1 tag + 3 len + (1 tag + 3 len + message).
    const message = 'm'.repeat(MAX_FRAME - 8);
    const body = Buffer.from(encodeRequest({ echo: { message } }).subarray(uvarint(MAX_FRAME).length));
    expect(body.length).toBe(MAX_FRAME);
    expect((await ok.call({ echo: { message } })).echo!.message.length).toBe(message.length);
    ok.destroy();

    const c = await AbciTestClient.connect(server.address);
    await c.send({ echo: { message: message + 'x' } });
    await expectExceptionThenClose(c, /exceeds the limit of 65536 bytes/);
  });

  it('a truncated frame then EOF: exception, connection closed', async () => {
    const c = await AbciTestClient.connect(server.address);
    const good = encodeRequest({ echo: { message: 'before' } });
    await c.writeRaw(Buffer.concat([good, uvarint(100), Buffer.alloc(10, 1)]));
    c.end(); // half-close: the server can still answer
    const first = await c.next();
    expect(first.echo!.message).toBe('before'); // complete requests before the bad one are answered first
    await expectExceptionThenClose(c, /middle of a frame/);
  });

  it('a clean EOF after complete requests: they are answered, then the server closes', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(Buffer.concat([encodeRequest({ echo: { message: 'one' } }), encodeRequest({ echo: { message: 'two' } })]));
    c.end();
    const got = await c.nextN(2);
    expect(got.map((r) => r.echo!.message)).toEqual(['one', 'two']);
    await c.closed;
  });

  it('an unknown request type (a removed v0.34 method) is answered with an exception; the stream stays usable', async () => {
    const c = await AbciTestClient.connect(server.address);
    // Request field 9 was DeliverTx (reserved in v0.38): tag (9 << 3 | 2), empty message.
    await c.writeRaw(Buffer.concat([frame(Buffer.from([0x4a, 0x00])), encodeRequest({ echo: { message: 'after' } })]));
    const r = await c.next();
    expectKind(r, 'exception');
    expect(r.exception!.error).toMatch(/unknown or empty request type/);
    expect((await c.next()).echo!.message).toBe('after');
    c.destroy();
  });

  it('an empty frame and an undecodable body are answered with exceptions', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.from([0x42, 0xff, 0xff, 0xff])), encodeRequest({ flush: {} })]));
    const got = await c.nextN(3);
    expect(got.map(kindOf)).toEqual(['exception', 'exception', 'flush']);
    expect(got[0]!.exception!.error).toMatch(/unknown or empty request type/);
    expect(got[1]!.exception!.error).toMatch(/undecodable request/);
    c.destroy();
  });

  it('an abrupt disconnect in the middle of a request does not disturb the server', async () => {
    const c = await AbciTestClient.connect(server.address);
    await c.writeRaw(Buffer.concat([uvarint(1000), Buffer.alloc(10)]));
    c.destroy();
    await c.closed;
  });
});

describe('ABCI App failures become Response.exception', () => {
  let server: AbciServer;
  let logs: LogLine[];
  let app: App;
  let failing: AbciApp;
  const ref = TestChain.create({ keys: testKeys(2, 'abci-fail'), balance: 1_000_000n });

  beforeAll(async () => {
    app = App.open({});
    const broken = new Set<string>();
    // The real App, with methods that fail on demand.
    failing = {
      info: () => app.info(),
      initChain: (r) => app.initChain(r),
      query: (r) => app.query(r),
      checkTx: (r) => app.checkTx(r),
      prefetchSignatures: (t) => app.prefetchSignatures(t),
      prepareProposal: (r) => app.prepareProposal(r),
      processProposal: (r) => (broken.has('process') ? ('maybe' as never) : app.processProposal(r)),
      extendVote: (r) => app.extendVote(r),
      verifyVoteExtension: (r) => app.verifyVoteExtension(r),
      finalizeBlockAsync: async (r) => {
        if (broken.has('finalize')) throw new Error('disk on fire');
        return app.finalizeBlockAsync(r);
      },
      commit: () => {
        if (broken.has('commit')) throw new Error('cannot persist');
        return app.commit();
      },
      listSnapshots: () => app.listSnapshots(),
      loadSnapshotChunk: (h, f, i) => app.loadSnapshotChunk(h, f, i),
      offerSnapshot: (s, h) => app.offerSnapshot(s, h),
      applySnapshotChunk: (i, c, s) => app.applySnapshotChunk(i, c, s),
    };
    (failing as unknown as { broken: Set<string> }).broken = broken;
    ({ server, logs } = await startTestServer({ app: failing }));
  });

  afterAll(async () => {
    await server?.close();
    app?.close();
  });

  const breakIt = (what: string, on: boolean) => {
    const s = (failing as unknown as { broken: Set<string> }).broken;
    if (on) s.add(what);
    else s.delete(what);
  };

  it('FinalizeBlock before InitChain (an App error): exception, logged, process fine', async () => {
    const c = await AbciTestClient.connect(server.address);
    const r = await c.callRaw({ finalizeBlock: finalizeRequest(1n, []) });
    expectKind(r, 'exception');
    expect(r.exception!.error).toMatch(/finalizeBlock: FinalizeBlock before InitChain/);
    expect(logs.some((l) => l.level === 'error' && /FinalizeBlock before InitChain/.test(l.message))).toBe(true);
    c.destroy();
  });

  it('a throwing FinalizeBlock / Commit and a ProcessProposal answer that is neither accept nor reject', async () => {
    const cons = await AbciTestClient.connect(server.address);
    const other = await AbciTestClient.connect(server.address);
    await cons.call({ initChain: initChainRequest(ref.appState) });

    breakIt('finalize', true);
    const f = await cons.callRaw({ finalizeBlock: finalizeRequest(1n, []) });
    expect(f.exception!.error).toBe('finalizeBlock: disk on fire');
    expect((await other.call({ echo: { message: 'x' } })).echo!.message).toBe('x');
    breakIt('finalize', false);
    // The connection stays in step (CometBFT itself stops on an exception; the server does not force it).
    expectKind(await cons.call({ finalizeBlock: finalizeRequest(1n, []) }), 'finalizeBlock');

    breakIt('commit', true);
    expect((await cons.callRaw({ commit: {} })).exception!.error).toBe('commit: cannot persist');
    breakIt('commit', false);
    expectKind(await cons.call({ commit: {} }), 'commit');

    breakIt('process', true);
    expect((await cons.callRaw({ processProposal: processRequest(2n, []) })).exception!.error).toMatch(/neither accept nor reject/);
    breakIt('process', false);
    expect((await cons.call({ processProposal: processRequest(2n, []) })).processProposal!.status).toBe(1);

    expect(logs.filter((l) => l.level === 'error').length).toBeGreaterThanOrEqual(3);
    cons.destroy();
    other.destroy();
  }, 10_000);
});
