import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { ApiServer, MempoolSubmitter } from '../../chain/api/index.js';
import { fill, FakeApp, txResult } from './fake-app.js';

/**
 * A channel message carries the state as of its `height` (chain/api/README.md). The server fans a block's
 * updates out later (on setImmediate), so two blocks can commit before the first is sent; a candle is a live
 * object that the second block's fills change, and the first block's update once showed the second block's
 * close and volume. Two blocks in the same minute, committed back to back: volume 1 then 10.
 */
interface Msg {
  type?: string;
  height?: number;
  data?: { candles?: Array<{ volume: string; close: string }> };
}

it('a candle update shows its own block, even when the next block committed before it was sent', async () => {
  const app = new FakeApp();
  const submitter = new MempoolSubmitter({
    size: 0,
    add: () => {
      throw new Error('no txs in this test');
    },
    onInclusion: () => {},
  });
  const api = new ApiServer({ app, submitter, host: '127.0.0.1', port: 0, serveWeb: false });
  const { port } = await api.listen();
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const msgs: Msg[] = [];
  ws.on('message', (d: Buffer) => msgs.push(JSON.parse(d.toString()) as Msg));
  try {
    await new Promise((r) => ws.on('open', r));
    ws.send(JSON.stringify({ id: 1, method: 'subscribe', params: { channel: 'candles:BTC-USD:1m' } }));
    while (!msgs.some((m) => m.type === 'snapshot')) await new Promise((r) => setTimeout(r, 5));
    const minute = 1_800_000_000 - (1_800_000_000 % 60);
    app.commit({ txs: [txResult([fill({ price: 100, size: 1 })])], timeSec: minute }); // height 1
    app.commit({ txs: [txResult([fill({ price: 200, size: 10 })])], timeSec: minute + 1 }); // height 2, same candle
    while (msgs.filter((m) => m.type === 'update').length < 2) await new Promise((r) => setTimeout(r, 5));
    const ups = msgs.filter((m) => m.type === 'update').map((m) => [m.height, m.data?.candles?.[0]?.volume, m.data?.candles?.[0]?.close]);
    expect(ups).toEqual([
      [1, '1', '100'],
      [2, '11', '200'],
    ]);
  } finally {
    ws.terminate();
    await api.close();
  }
});
