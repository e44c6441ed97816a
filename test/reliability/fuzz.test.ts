/**
 * Fuzzing (short version, ~30k inputs; the 1,000,000-input run is
 * scripts/reliability/fuzz.ts): mutated tx bytes through CheckTx and in
 * blocks with twin-App checks, mutated message fields through the module
 * handlers and re-signed in blocks, ABCI frames through the server's framing
 * and handler and over TCP, WebSocket frames through the API handler and over
 * a socket (lib/fuzz.ts). No crash, no unhandled rejection, every rejection
 * a registered error, and no state change from an invalid input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../helpers/rng.js';
import { formatReport, fuzzAbciFrames, fuzzAbciSocket, fuzzMsgFields, fuzzSignedMsgs, fuzzTxBytes, fuzzWsFrames, fuzzWsSocket, makeEnv, type FuzzEnv, type FuzzReport } from './lib/fuzz.js';

const SCALE = Number(process.env.RELIABILITY_FUZZ_SCALE ?? 1);
let env: FuzzEnv;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => void unhandled.push(e);
const reports: FuzzReport[] = [];
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
  env = makeEnv(7, 30);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

function ok(r: FuzzReport, min: number) {
  reports.push(r);
  expect(r.findings, formatReport(r)).toEqual([]);
  expect(r.inputs).toBeGreaterThanOrEqual(min);
  expect(unhandled).toEqual([]);
}

describe('fuzzing: no crash, registered rejections only, no state change from invalid input', () => {
  it('tx bytes: mutated signed txs through CheckTx and in blocks (twin App hashes equal)', () => {
    const r = fuzzTxBytes(env, 6_000 * SCALE, new Rng(101));
    ok(r, 5_900 * SCALE);
    expect(r.twinBlocks).toBeGreaterThan(10);
  });
  it('message fields: every message type, mutated field-wise, through validateBasic and the handlers (reverted)', () => {
    const r = fuzzMsgFields(env, 8_000 * SCALE, new Rng(102));
    ok(r, 8_000 * SCALE);
    expect(r.accepted).toBeGreaterThan(100);
    expect(new Set(env.msgs.map((m) => m.typeUrl)).size).toBe(env.defs.size);
  });
  it('message fields re-signed as valid txs, in blocks (failed txs keep only fee and sequence)', () => {
    const r = fuzzSignedMsgs(env, 600 * SCALE, new Rng(103));
    ok(r, 600 * SCALE);
    expect(r.accepted).toBeGreaterThan(10);
  });
  it('ABCI frames: framing, Request decoding and the handler, in random chunkings', async () => {
    ok(await fuzzAbciFrames(env, 6_000 * SCALE, new Rng(104)), 6_000 * SCALE);
  });
  it('ABCI frames over TCP: every request answered in order, the server still serves, nothing changed', async () => {
    ok(await fuzzAbciSocket(env, 1_000 * SCALE, new Rng(105)), 1_000 * SCALE);
  });
  it('WebSocket frames through the API handler', async () => {
    ok(await fuzzWsFrames(env, 6_000 * SCALE, new Rng(106)), 6_000 * SCALE);
  });
  it('WebSocket frames over a socket', async () => {
    ok(await fuzzWsSocket(env, 1_000 * SCALE, new Rng(107)), 1_000 * SCALE);
    const total = reports.reduce((s, r) => s + r.inputs, 0);
    expect(total).toBeGreaterThan(28_000 * SCALE);
  });
});
