/**
 * Rules of one ABCI connection that a socket test cannot pin down by timing
 * (chain/abci/README.md, "Connections" and "Error policy"), checked on an
 * AbciConnection over an in-memory socket that records every write:
 *
 * - EOF in the middle of a frame, even a frame of which only one byte of the
 *   length prefix arrived, is answered with an exception and closes;
 * - a Flush's response is handed to the socket before the next request's
 *   App call starts, and earlier responses before an async FinalizeBlock
 *   starts waiting (writes are batched, never withheld);
 * - the handler's checks on what the App returns: a PrepareProposal that
 *   fills max_tx_bytes exactly is passed on, one byte more is an exception;
 *   a FinalizeBlock with the wrong number of tx results is an exception.
 *
 * Requests are encoded and responses decoded with cosmjs-types (not the
 * server's own protobufjs bundle).
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import Long from 'long';
import { Response } from 'cosmjs-types/tendermint/abci/types';
import { tendermint } from '../../proto/gen/tendermint.js';
import { checkTxToApp, commitInfoToApp, initChainFromApp, nsToTime } from '../../chain/abci/codec.js';
import { AbciConnection } from '../../chain/abci/connection.js';
import { AbciHandler, type AbciApp } from '../../chain/abci/handler.js';
import { AppLock } from '../../chain/abci/lock.js';
import type { FinalizeBlockResult } from '../../chain/types.js';
import { encodeRequest, kindOf } from './client.js';

/** The part of a net.Socket an AbciConnection uses, recording what is written. */
class FakeSocket extends EventEmitter {
  readonly writes: Buffer[] = [];
  ended = false;
  destroyed = false;
  readonly writableLength = 0;
  write(b: Buffer): boolean {
    this.writes.push(Buffer.from(b));
    return true;
  }
  isPaused(): boolean {
    return false;
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  end(cb?: () => void): this {
    this.ended = true;
    cb?.();
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
  /** Every response written so far, decoded (frames may share a write). */
  responses(): Response[] {
    const all = Buffer.concat(this.writes);
    const out: Response[] = [];
    let off = 0;
    while (off < all.length) {
      let len = 0;
      let shift = 1;
      let i = off;
      for (;;) {
        const b = all[i++]!;
        len += (b & 0x7f) * shift;
        shift *= 128;
        if (b < 0x80) break;
      }
      out.push(Response.decode(all.subarray(i, i + len)));
      off = i + len;
    }
    return out;
  }
  kinds(): string[] {
    return this.responses().map(kindOf);
  }
}

function connect(app: Partial<AbciApp>) {
  const socket = new FakeSocket();
  const log = () => undefined;
  const conn = new AbciConnection(1, socket as unknown as Socket, { handler: new AbciHandler(app as AbciApp, log), lock: new AppLock(), log, maxFrameBytes: 1 << 20, prefetchCheckTx: false });
  return { socket, conn };
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const block = (txResults: FinalizeBlockResult['txResults']): FinalizeBlockResult => ({ events: [], txResults, validatorUpdates: [], appHash: new Uint8Array(32) });
const okResult = { code: 0, codespace: '', log: '', data: new Uint8Array(), gasWanted: 0n, gasUsed: 0n, events: [] };

describe('EOF in the middle of a frame', () => {
  // One byte of a frame is as truncated as a hundred: CometBFT's stream broke, the server must say so and close.
  for (const [what, partial] of [
    ['an unfinished length prefix (0x80)', Buffer.from([0x80])],
    ['a complete 1-byte prefix whose body never came', Buffer.from([0x05])],
  ] as const) {
    it(`${what}: complete requests are answered, then an exception, then the connection closes`, async () => {
      const { socket } = connect({});
      socket.emit('data', Buffer.concat([encodeRequest({ echo: { message: 'before' } }), partial]));
      socket.emit('end');
      await settle();
      const got = socket.responses();
      expect(got.map(kindOf)).toEqual(['echo', 'exception']);
      expect(got[1]!.exception!.error).toMatch(/middle of a frame \(1 bytes/);
      expect(socket.ended).toBe(true);
    });
  }

  it('a clean EOF after complete frames closes without an exception', async () => {
    const { socket } = connect({});
    socket.emit('data', encodeRequest({ echo: { message: 'only' } }));
    socket.emit('end');
    await settle();
    expect(socket.kinds()).toEqual(['echo']);
    expect(socket.ended).toBe(true);
  });
});

describe('writes are batched, never withheld', () => {
  it('a Flush response is on the socket before the App call of the request after it starts', () => {
    let seenAtCommit: string[] | undefined;
    const { socket } = connect({
      commit: () => {
        seenAtCommit = socket.kinds();
        return { retainHeight: 0n };
      },
    });
    // CometBFT waits for ResponseFlush; a long synchronous call queued behind it must not hold it back.
    socket.emit('data', Buffer.concat([encodeRequest({ echo: { message: 'a' } }), encodeRequest({ flush: {} }), encodeRequest({ commit: {} })]));
    expect(seenAtCommit).toEqual(['echo', 'flush']);
  });

  it('responses before an async FinalizeBlock are on the socket while it works', async () => {
    let finish!: (r: FinalizeBlockResult) => void;
    const { socket } = connect({ finalizeBlockAsync: () => new Promise<FinalizeBlockResult>((resolve) => (finish = resolve)) });
    socket.emit('data', Buffer.concat([encodeRequest({ echo: { message: 'a' } }), encodeRequest({ finalizeBlock: { height: 1n, txs: [] } })]));
    await settle();
    expect(socket.kinds()).toEqual(['echo']); // the FinalizeBlock is still working
    finish(block([]));
    await settle();
    expect(socket.kinds()).toEqual(['echo', 'finalizeBlock']);
  });
});

describe('the handler checks what the App returns before CometBFT sees it', () => {
  // One tx of 100 bytes takes 1 (tag) + 1 (uvarint 100) + 100 = 102 bytes of the block's Data.
  const tx = new Uint8Array(100).fill(7);

  it('PrepareProposal: txs filling max_tx_bytes exactly are passed on; one byte more is an exception and the stream goes on', async () => {
    const { socket } = connect({ prepareProposal: () => ({ txs: [tx] }) });
    socket.emit(
      'data',
      Buffer.concat([
        encodeRequest({ prepareProposal: { maxTxBytes: 102n, height: 1n } }),
        encodeRequest({ prepareProposal: { maxTxBytes: 101n, height: 1n } }),
        encodeRequest({ echo: { message: 'after' } }),
      ]),
    );
    await settle();
    const got = socket.responses();
    expect(got.map(kindOf)).toEqual(['prepareProposal', 'exception', 'echo']);
    expect(got[0]!.prepareProposal!.txs.map((t) => t.length)).toEqual([100]);
    expect(got[1]!.exception!.error).toMatch(/102 bytes of txs, max_tx_bytes is 101/);
    expect(socket.ended).toBe(false);
  });

  it('FinalizeBlock: one result per tx, or an exception (CometBFT would pair results with the wrong txs)', async () => {
    let results = [okResult];
    const { socket } = connect({ finalizeBlockAsync: () => Promise.resolve(block(results)) });
    socket.emit('data', encodeRequest({ finalizeBlock: { height: 1n, txs: [tx] } }));
    await settle();
    results = [];
    socket.emit('data', encodeRequest({ finalizeBlock: { height: 1n, txs: [tx] } }));
    await settle();
    results = [okResult, okResult];
    socket.emit('data', encodeRequest({ finalizeBlock: { height: 1n, txs: [tx] } }));
    await settle();
    const got = socket.responses();
    expect(got.map(kindOf)).toEqual(['finalizeBlock', 'exception', 'exception']);
    expect(got[0]!.finalizeBlock!.txResults.length).toBe(1);
    expect(got[1]!.exception!.error).toMatch(/returned 0 tx results for 1 txs/);
    expect(got[2]!.exception!.error).toMatch(/returned 2 tx results for 1 txs/);
  });
});

describe('FinalizeBlock results that leave the fast encoder', () => {
  it('validator updates reach CometBFT (with no param change)', async () => {
    const update = { pubKeyType: 'ed25519' as const, pubKeyBytes: new Uint8Array(32).fill(9), power: 25n };
    const { socket } = connect({ finalizeBlockAsync: () => Promise.resolve({ ...block([]), validatorUpdates: [update] }) });
    socket.emit('data', encodeRequest({ finalizeBlock: { height: 1n, txs: [] } }));
    await settle();
    const [res] = socket.responses();
    expect(res!.finalizeBlock!.validatorUpdates.map((v) => [Buffer.from(v.pubKey.ed25519!).toString('hex'), v.power])).toEqual([['09'.repeat(32), 25n]]);
    expect(res!.finalizeBlock!.consensusParamUpdates).toBeUndefined();
  });
});

describe('codec rules', () => {
  it('block_id_flag is UNKNOWN 0, ABSENT 1, COMMIT 2 or NIL 3; any other value is refused, not read as a non-commit', () => {
    const vote = (blockIdFlag: number) => ({ validator: { address: new Uint8Array(20), power: Long.fromNumber(10) }, blockIdFlag });
    expect(commitInfoToApp({ round: 0, votes: [0, 1, 2, 3].map(vote) }).votes.map((v) => v.blockIdFlag)).toEqual([0, 1, 2, 3]);
    expect(() => commitInfoToApp({ round: 0, votes: [vote(4)] })).toThrow(/unknown block_id_flag 4/);
    expect(() => commitInfoToApp({ round: 0, votes: [vote(-1)] })).toThrow(/unknown block_id_flag -1/);
  });

  it('InitChain: validators the App merely echoes are answered with an empty list (CometBFT keeps genesis); a change is passed on', () => {
    const genesis = [{ pubKeyType: 'ed25519' as const, pubKeyBytes: new Uint8Array(32).fill(1), power: 10n }];
    const req = { chainId: 'c', timeNs: 0n, initialHeight: 1n, appStateBytes: new Uint8Array(), validators: genesis };
    expect(initChainFromApp(req, { appHash: new Uint8Array(32), validators: genesis.map((v) => ({ ...v })) }).validators).toBeUndefined();
    const changed = initChainFromApp(req, { appHash: new Uint8Array(32), validators: [{ ...genesis[0]!, power: 11n }] });
    expect(changed.validators?.map((v) => Number(v.power))).toEqual([11]);
  });

  it('a Timestamp\'s nanos stay in [0, 1e9): a whole second is { seconds, nanos: 0 }', () => {
    expect(nsToTime(2_000_000_000n)).toMatchObject({ nanos: 0 });
    expect(Number(nsToTime(2_000_000_000n).seconds)).toBe(2);
    expect(nsToTime(0n)).toMatchObject({ nanos: 0 });
  });

  it('CheckTx type: NEW (0) and RECHECK (1) reach the App as such; anything else is refused', () => {
    // The App does not act on the difference today; the mapping is the contract it will rely on when it does.
    expect(checkTxToApp({ tx: new Uint8Array([1]) }).type).toBe('new');
    expect(checkTxToApp({ tx: new Uint8Array([1]), type: 0 }).type).toBe('new');
    expect(checkTxToApp({ tx: new Uint8Array([1]), type: 1 }).type).toBe('recheck');
    expect(() => checkTxToApp({ tx: new Uint8Array([1]), type: 2 as tendermint.abci.CheckTxType })).toThrow(/unknown CheckTx type 2/);
  });
});
