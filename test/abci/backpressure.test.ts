/**
 * A peer that sends requests but never reads the responses must not make the
 * server buffer without bound (a review found the server's memory growing by
 * ~600 MB for 600 MB of Echo requests from such a peer, enough to kill the
 * process and its consensus connection with it). The server stops reading
 * that peer while 64 MiB of its responses are unsent, and resumes when they
 * drain: everything is then answered, in order.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../chain/app.js';
import type { AbciServer } from '../../chain/abci/index.js';
import { Response } from 'cosmjs-types/tendermint/abci/types';
import { encodeRequest } from './client.js';
import { startTestServer } from './harness.js';

/** Bytes a peer may push before it must feel backpressure: 64 MiB of unsent responses, plus kernel buffers and queue. */
const LIMIT = 160 << 20;

describe('ABCI socket: backpressure on a peer that does not read', () => {
  let app: App;
  let server: AbciServer;
  beforeAll(async () => {
    app = App.open({});
    ({ server } = await startTestServer({ app }));
  });
  afterAll(async () => {
    await server?.close();
    app?.close();
  });

  it('stops reading a peer whose responses pile up, and answers everything once it reads again', async () => {
    const port = Number(/:(\d+)$/.exec(server.address)![1]);
    const sock: Socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.pause(); // never read (for now)
    const batch = Buffer.concat(Array.from({ length: 256 }, () => encodeRequest({ echo: { message: 'x'.repeat(4000) } })));
    let sent = 0;
    let stalled = false;
    while (sent < LIMIT + 64 * batch.length) {
      const ok = sock.write(batch); // (queued even when it says false)
      sent += batch.length;
      if (!ok) {
        // a write buffer that does not drain within a second: the server stopped reading us
        const drained = await Promise.race([new Promise<boolean>((r) => sock.once('drain', () => r(true))), new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]);
        if (!drained) {
          stalled = true;
          break;
        }
      }
    }
    expect(stalled, `pushed ${(sent / 2 ** 20).toFixed(0)} MiB without being slowed`).toBe(true);
    expect(sent).toBeLessThan(LIMIT);

    // reading again: every echo comes back, in order, and the connection still serves
    sock.write(encodeRequest({ echo: { message: 'last' } }));
    const n = sent / batch.length * 256 + 1;
    let buf: Buffer = Buffer.alloc(0);
    let got = 0;
    let last = '';
    await new Promise<void>((resolve, reject) => {
      sock.on('data', (c: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, c]) : Buffer.from(c);
        let o = 0;
        for (;;) {
          let len = 0;
          let shift = 0;
          let i = o;
          for (; i < buf.length; i++) {
            len += (buf[i]! & 0x7f) * 2 ** shift;
            shift += 7;
            if (buf[i]! < 0x80) break;
          }
          if (i >= buf.length || i + 1 + len > buf.length) break;
          const r = Response.decode(buf.subarray(i + 1, i + 1 + len));
          if (!r.echo) return reject(new Error(`not an echo: ${JSON.stringify(r)}`));
          last = r.echo.message;
          got++;
          o = i + 1 + len;
        }
        buf = buf.subarray(o);
        if (got >= n) resolve();
      });
      sock.resume();
    });
    expect(got).toBe(n);
    expect(last).toBe('last');
    sock.destroy();
  }, 60_000);
});
