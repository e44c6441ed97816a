/**
 * Fuzzers for every way bytes reach perpchain, built for volume (seeded,
 * in-process where possible) with a smaller share through real sockets.
 *
 *   txBytes       byte-wise mutations of valid signed txs → CheckTx; every few
 *                 hundred, the last batch goes into a block on F while the twin
 *                 App R gets the block of what must remain (nothing for a tx that
 *                 fails its ante handler, a fee-only twin for one whose messages
 *                 fail, the same tx for one that succeeds): equal app hashes.
 *   msgFields     field-wise mutations of every message type (protobufjs
 *                 reflection over proto/perpchain: numbers at the edges, bad
 *                 addresses and amounts, unknown enums, nested and repeated
 *                 fields), run through the module's validateBasic and handler
 *                 on a branch of F's state, then reverted; in-memory structures
 *                 must come back (module invariants checked as we go).
 *   signedMsgs    the same mutations re-signed as valid txs by the right
 *                 signer, in blocks on F with twins on R: equal app hashes.
 *   abciFrames    mutated and synthetic ABCI Request frames through the
 *                 server's own FrameDecoder → Request.decode → AbciHandler → App,
 *                 in random chunkings (no Commit is ever sent).
 *   abciSocket    the same frames over real TCP connections to the ABCI server.
 *   wsFrames      mutated JSON requests of every API method (and non-JSON,
 *                 binary and oversized frames) through the API server's frame
 *                 handler.
 *   wsSocket      the same over a real WebSocket connection.
 *
 * Every rejection must be a registered error (lookupError(codespace, code),
 * never the internal-error code); nothing may throw out of the App, the ABCI
 * handler or the API handler except what they are designed to throw (ABCI:
 * exception responses for requests the App refuses); no unhandled rejection;
 * and F's committed state must equal R's after every block.
 */
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { WebSocket } from 'ws';
import { TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { App } from '../../../chain/app.js';
import { AbciHandler, BadRequestError } from '../../../chain/abci/handler.js';
import { FrameDecoder, FrameError, encodeFrame, startAbciServer, type AbciServer } from '../../../chain/abci/index.js';
import { ApiServer, MempoolSubmitter } from '../../../chain/api/index.js';
import { Mempool } from '../../../chain/devnet/mempool.js';
import { EventSink, Journal, type Ctx } from '../../../chain/context.js';
import { ChainError, ErrInternal, lookupError } from '../../../chain/errors/index.js';
import { GasKV, GasMeter } from '../../../chain/gas/index.js';
import type { MsgDef } from '../../../chain/module.js';
import { Branch } from '../../../chain/store/branch.js';
import type { FinalizeBlockRequest, FinalizeBlockResult } from '../../../chain/types.js';
import { tendermint } from '../../../proto/gen/tendermint.js';
import type { TestKey } from '../../helpers/keys.js';
import { buildTx } from '../../helpers/rawtx.js';
import { Rng } from '../../helpers/rng.js';
import { stateDiff } from '../../helpers/state.js';
import { sendAny, Traffic } from './traffic.js';
import { hex } from './wire.js';

import abci = tendermint.abci;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface FuzzReport {
  name: string;
  inputs: number;
  /** Inputs refused with a registered error code (or an ABCI exception / API error by design). */
  rejected: number;
  /** Inputs that were accepted (valid after mutation, or read-only requests answered). */
  accepted: number;
  /** Rejections by code, e.g. "tx/3" or "api:bad_json". */
  codes: Map<string, number>;
  /** Blocks whose app hash was compared with the twin. */
  twinBlocks: number;
  findings: string[];
  ms: number;
}

function report(name: string): FuzzReport {
  return { name, inputs: 0, rejected: 0, accepted: 0, codes: new Map(), twinBlocks: 0, findings: [], ms: 0 };
}

function inc(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function finding(r: FuzzReport, s: string): void {
  if (r.findings.length < 50) r.findings.push(s);
}

/** A rejection's code must be registered and not the internal-error code. */
function checkCode(r: FuzzReport, codespace: string, code: number, log: string, what: string): void {
  inc(r.codes, `${codespace}/${code}`);
  const def = lookupError(codespace, code);
  if (!def) finding(r, `${what}: unregistered error ${codespace}/${code} (${log})`);
  else if (def === ErrInternal) finding(r, `${what}: internal error (${log})`);
}

// ------------------------------------------------------------------ the env

export interface FuzzEnv {
  traffic: Traffic;
  /** The fuzzed App. */
  F: App;
  /** Its twin, fed only what must remain of each fuzzed block. */
  R: App;
  keys: Map<string, TestKey>;
  /** Valid signed txs (fresh: current sequences) and messages to mutate. */
  txs: Uint8Array[];
  /** Recent valid txs (a few blocks' worth) to mutate. */
  corpus: Uint8Array[];
  msgs: Array<{ typeUrl: string; value: Uint8Array }>;
  defs: Map<string, MsgDef>;
  timeNs: bigint;
  root: protobuf.Root;
}

/** A chain with some history (orders resting, positions, a few liquidations) in F and R. */
export function makeEnv(seed: number, blocks = 40): FuzzEnv {
  const traffic = new Traffic({ seed, txsPerBlock: 12 });
  const F = App.open();
  const R = App.open();
  const init = traffic.initChain();
  F.initChain(init);
  R.initChain(init);
  const seen: Uint8Array[] = [];
  for (let i = 0; i < blocks; i++) {
    const req = traffic.next(F);
    F.finalizeBlock(req);
    F.commit();
    R.finalizeBlock(req);
    R.commit();
    seen.push(...req.txs);
  }
  const defs = new Map<string, MsgDef>();
  for (const m of F.modules) for (const d of m.msgs ?? []) defs.set(d.typeUrl, d);
  const env: FuzzEnv = {
    traffic,
    F,
    R,
    keys: new Map(traffic.all.map((k) => [k.address, k])),
    txs: [],
    corpus: [],
    msgs: [],
    defs,
    timeNs: traffic.timeNs,
    root: loadProtoRoot(),
  };
  // messages of every type that occurred in the history, plus the txs themselves
  for (const t of seen.slice(-300)) {
    try {
      for (const m of TxBody.decode(TxRaw.decode(t).bodyBytes).messages) if (defs.has(m.typeUrl) && env.msgs.filter((x) => x.typeUrl === m.typeUrl).length < 20) env.msgs.push({ typeUrl: m.typeUrl, value: m.value });
    } catch {
      /* garbage on purpose */
    }
  }
  env.corpus = seen.filter((t) => t.length > 0).slice(-200);
  refreshCorpus(env);
  return env;
}

/** Fresh valid txs (signed with the current sequences) and their messages. */
export function refreshCorpus(env: FuzzEnv): void {
  const saved = env.traffic.timeNs;
  const req = env.traffic.next(env.F); // not executed: just a block's worth of signed txs
  env.traffic.timeNs = saved;
  env.txs = req.txs.filter((t) => t.length > 0);
  const msgs: Array<{ typeUrl: string; value: Uint8Array }> = [];
  for (const t of env.txs) {
    try {
      for (const m of TxBody.decode(TxRaw.decode(t).bodyBytes).messages) if (env.defs.has(m.typeUrl)) msgs.push({ typeUrl: m.typeUrl, value: m.value });
    } catch {
      /* garbage in the traffic on purpose */
    }
  }
  // make sure every message type is represented (some only appear now and then in traffic)
  if (msgs.length) env.msgs = [...msgs, ...env.msgs].slice(0, 400);
  env.corpus = [...env.txs, ...env.corpus].slice(0, 300);
  for (const s of SYNTHETIC) if (!env.msgs.some((m) => m.typeUrl === s.typeUrl)) env.msgs.push(synthetic(env, s.typeUrl, s.value));
}

const SYNTHETIC: Array<{ typeUrl: string; value: Record<string, unknown> }> = [
  { typeUrl: '/perpchain.perpetuals.v1.MsgCreateMarket', value: { market: { id: 5, ticker: 'SOL-USD', status: 1, atomicResolution: -7, priceExponent: -6, tickSize: '1000', stepSize: '1000000', minOrderSize: '1000000', initialMarginPpm: 100000, maintenanceMarginPpm: 50000, oiLowerCap: '0', oiUpperCap: '0', maxOpenInterest: '0', interestRatePpm: 0, fundingRateCapPpm: 1250, impactNotional: '5000000000' }, initialPrice: '150000000' } },
  { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateParams', value: { params: { fundingIntervalSeconds: 3600 } } },
  { typeUrl: '/perpchain.prices.v1.MsgUpdateParams', value: { params: { feeders: [], minChangePpm: 10, maxMovePpm: 100000, stalenessSeconds: 60 } } },
  { typeUrl: '/perpchain.clob.v1.MsgUpdateParams', value: { params: { takerFeePpm: 500, makerFeePpm: -100, maxOpenOrders: 256, maxGoodTilBlocks: 100000, maxGoodTilSeconds: 8208000, marketOrderSlippagePpm: 50000, clientIdRetentionBlocks: 2000, maxTriggersPerBlock: 64, maxExpiriesPerBlock: 1024, openOrderTiers: [{ minNetCollateral: '20000000', maxOpenOrders: 8 }, { minNetCollateral: '100000000', maxOpenOrders: 32 }] } } },
  { typeUrl: '/perpchain.liquidation.v1.MsgUpdateParams', value: { params: { liquidationFeePpm: 15000, spreadToMmfPpm: 1500000, positionFractionPpm: 200000, minLiquidationNotional: '10000000000', maxLiquidationsPerBlock: 50, maxAdlFillsPerBlock: 20, maxAdlCandidates: 500 } } },
  { typeUrl: '/perpchain.prices.v1.MsgInjectPrices', value: {} },
  { typeUrl: '/perpchain.subaccounts.v1.MsgTransfer', value: { fromNumber: 0, toNumber: 1, amount: '1000000' } },
  { typeUrl: '/perpchain.clob.v1.MsgAmendOrder', value: { subaccountNumber: 0, orderId: '1', price: '6500000000', quantity: '100000' } },
  { typeUrl: '/perpchain.clob.v1.MsgCancelOrder', value: { subaccountNumber: 0, orderId: '1' } },
  { typeUrl: '/perpchain.clob.v1.MsgPlaceOrder', value: { subaccountNumber: 0, marketId: 0, clientId: 77, side: 1, type: 1, timeInForce: 0, price: '6500000000', quantity: '100000', goodTilBlock: '0', goodTilTime: '0', stp: 0, triggerPrice: '0' } },
  { typeUrl: '/perpchain.subaccounts.v1.MsgDeposit', value: { subaccountNumber: 0, amount: '1000000' } },
  { typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw', value: { subaccountNumber: 0, amount: '1000000', recipient: '' } },
  { typeUrl: '/perpchain.bank.v1.MsgSend', value: { amount: '1000' } },
  { typeUrl: '/perpchain.prices.v1.MsgUpdatePrices', value: { prices: [{ marketId: 0, price: '6500000000' }, { marketId: 1, price: '3000000000' }] } },
  { typeUrl: '/perpchain.perpetuals.v1.MsgUpdateMarket', value: { market: { id: 1, ticker: 'ETH-USD', status: 1, atomicResolution: -9, priceExponent: -6, tickSize: '10000', stepSize: '1000000', minOrderSize: '1000000', initialMarginPpm: 50000, maintenanceMarginPpm: 30000, oiLowerCap: '0', oiUpperCap: '0', maxOpenInterest: '0', interestRatePpm: 0, fundingRateCapPpm: 1250, impactNotional: '10000000000' } } },
];

function synthetic(env: FuzzEnv, typeUrl: string, value: Record<string, unknown>): { typeUrl: string; value: Uint8Array } {
  const T = env.root.lookupType(typeUrl.slice(1));
  const v = { ...value };
  for (const f of ['authority', 'owner', 'feeder', 'fromAddress']) if (T.fields[f]) v[f] = f === 'feeder' ? env.traffic.feeder.address : env.traffic.authority.address;
  if (T.fields.toAddress) v.toAddress = env.traffic.traders[0]!.address;
  if (typeUrl.endsWith('MsgUpdateParams') && typeUrl.includes('prices')) (v.params as { feeders: string[] }).feeders = [env.traffic.feeder.address];
  if (typeUrl.endsWith('MsgUpdateParams') && typeUrl.includes('perpetuals')) (v.params as { authority?: string }).authority = env.traffic.authority.address;
  if (T.fields.toOwner) v.toOwner = env.traffic.authority.address;
  return { typeUrl, value: T.encode(T.fromObject(v)).finish() };
}

let protoRoot: protobuf.Root | undefined;
export function loadProtoRoot(): protobuf.Root {
  if (protoRoot) return protoRoot;
  const dir = join(root, 'proto', 'perpchain');
  const files = ['auth/v1/auth.proto', 'bank/v1/bank.proto', 'prices/v1/prices.proto', 'perpetuals/v1/perpetuals.proto', 'subaccounts/v1/subaccounts.proto', 'clob/v1/clob.proto', 'liquidation/v1/liquidation.proto', 'tx/v1/tx.proto'];
  protoRoot = new protobuf.Root().loadSync(files.map((f) => join(dir, f)), { keepCase: false });
  return protoRoot;
}

// ------------------------------------------------------------- mutations

const EDGE_U64 = ['0', '1', '2', '100000', '9007199254740991', '9007199254740992', '9223372036854775807', '9223372036854775808', '18446744073709551615'];
const EDGE_I64 = ['0', '1', '-1', '-100000', '9007199254740991', '-9007199254740992', '9223372036854775807', '-9223372036854775808'];
const EDGE_U32 = [0, 1, 2, 3, 7, 127, 128, 255, 256, 65535, 2147483647, 2147483648, 4294967295];
const EDGE_I32 = [0, 1, -1, -2, 2147483647, -2147483648, 1000000, -1000000];

function mutateBytes(rng: Rng, src: Uint8Array, ops = 1 + rng.int(4)): Uint8Array {
  let b = Buffer.from(src);
  for (let i = 0; i < ops; i++) {
    const at = b.length ? rng.int(b.length) : 0;
    switch (rng.int(9)) {
      case 0: // bit flip
        if (b.length) b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1: // random byte
        if (b.length) b[at] = rng.int(256);
        break;
      case 2: // interesting byte
        if (b.length) b[at] = rng.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a]);
        break;
      case 3: // insert
        b = Buffer.concat([b.subarray(0, at), Buffer.from(rng.bytes(1 + rng.int(8))), b.subarray(at)]);
        break;
      case 4: // delete a run
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(8)))]);
        break;
      case 5: // truncate
        b = b.subarray(0, at);
        break;
      case 6: // duplicate a chunk
        b = Buffer.concat([b, b.subarray(at, Math.min(b.length, at + 1 + rng.int(64)))]);
        break;
      case 7: // varint blow-up: a long continuation run
        b = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), b.subarray(at + 1)]);
        break;
      default: // overwrite a run with zeros
        b.fill(0, at, Math.min(b.length, at + 1 + rng.int(8)));
    }
  }
  return b;
}

const STRING_VALUES = (env: FuzzEnv, rng: Rng): string => {
  const addrs = [...env.keys.keys()];
  const a = rng.pick(addrs);
  switch (rng.int(16)) {
    case 0:
      return '';
    case 1:
      return 'x'.repeat(rng.pick([1, 64, 300, 5000]));
    case 2:
      return a;
    case 3:
      return a.slice(0, -1) + (a.endsWith('q') ? 'p' : 'q'); // bad checksum
    case 4:
      return a.toUpperCase();
    case 5:
      return 'cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
    case 6:
      return rng.pick(['-1', '0', '1', '00', '01', '1.5', '1e6', ' 1', '1 ', '+1', '0x10', 'NaN', 'Infinity']);
    case 7:
      return rng.pick(['340282366920938463463374607431768211455', '340282366920938463463374607431768211456', '99999999999999999999999999999999999999999999']);
    case 8:
      return rng.pick(['\u0000', '\u202e', '😀'.repeat(10), '../../etc/passwd', '%00', 'BTC-USD', 'btc-usd', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-USD']);
    case 9:
      return String(rng.u32());
    case 10:
      return String(BigInt(rng.u32()) * BigInt(rng.u32()) * BigInt(rng.u32()));
    case 11:
      return 'perp1' + 'q'.repeat(rng.range(0, 60));
    default:
      return a;
  }
};

/** The value moved by a small multiple of a power of ten (kept ≥ 0 for unsigned fields). */
function nudge(rng: Rng, cur: unknown, unsigned: boolean): bigint {
  let v: bigint;
  try {
    v = BigInt(String(cur ?? 0));
  } catch {
    v = 0n;
  }
  v += BigInt(rng.range(-3, 3)) * 10n ** BigInt(rng.int(12));
  return unsigned && v < 0n ? 0n : v;
}

/** Mutate a decoded message object (protobufjs toObject form) in place, field-wise. */
function mutateObject(env: FuzzEnv, rng: Rng, T: protobuf.Type, obj: Record<string, unknown>, depth = 0): void {
  const fields = T.fieldsArray;
  if (!fields.length) return;
  const n = 1 + rng.int(Math.min(3, fields.length));
  for (let i = 0; i < n; i++) {
    const f = rng.pick(fields);
    f.resolve();
    if (f.repeated) {
      const cur = (obj[f.name] as unknown[] | undefined) ?? [];
      const c = rng.int(5);
      if (c === 0) obj[f.name] = [];
      else if (c === 1 && cur.length) obj[f.name] = [...cur, ...cur];
      else if (c === 2 && cur.length) obj[f.name] = Array.from({ length: rng.pick([50, 300]) }, () => cur[0]);
      else if (f.resolvedType instanceof protobuf.Type && cur.length) {
        const el = { ...(rng.pick(cur) as Record<string, unknown>) };
        mutateObject(env, rng, f.resolvedType, el, depth + 1);
        obj[f.name] = [...cur, el];
      } else if (f.type === 'string') obj[f.name] = [...cur, STRING_VALUES(env, rng)];
      continue;
    }
    if (f.resolvedType instanceof protobuf.Type) {
      if (rng.chance(0.2) || depth > 2) obj[f.name] = null;
      else {
        const sub = { ...((obj[f.name] as Record<string, unknown> | null) ?? {}) };
        mutateObject(env, rng, f.resolvedType, sub, depth + 1);
        obj[f.name] = sub;
      }
      continue;
    }
    if (f.resolvedType instanceof protobuf.Enum) {
      obj[f.name] = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 99, -1, 2147483647]);
      continue;
    }
    const cur = obj[f.name];
    switch (f.type) {
      case 'uint64':
      case 'fixed64':
        obj[f.name] = rng.chance(0.7) ? rng.pick(EDGE_U64) : String(nudge(rng, cur, true));
        break;
      case 'int64':
      case 'sint64':
      case 'sfixed64':
        obj[f.name] = rng.chance(0.7) ? rng.pick(EDGE_I64) : String(nudge(rng, cur, false));
        break;
      case 'uint32':
      case 'fixed32':
        obj[f.name] = rng.chance(0.7) ? rng.pick(EDGE_U32) : ((Number(cur ?? 0) + rng.range(-3, 3)) >>> 0);
        break;
      case 'int32':
      case 'sint32':
      case 'sfixed32':
        obj[f.name] = rng.chance(0.7) ? rng.pick(EDGE_I32) : (Number(cur ?? 0) + rng.range(-1000, 1000)) | 0;
        break;
      case 'bool':
        obj[f.name] = !cur;
        break;
      case 'string':
        obj[f.name] = STRING_VALUES(env, rng);
        break;
      case 'bytes':
        obj[f.name] = Buffer.from(rng.bytes(rng.pick([0, 1, 20, 32, 33, 65])));
        break;
      default:
        obj[f.name] = null;
    }
  }
}

/** A field-wise (or, one time in five, byte-wise) mutation of a message's value bytes. */
export function mutateMessage(env: FuzzEnv, rng: Rng, m: { typeUrl: string; value: Uint8Array }): Uint8Array {
  if (rng.chance(0.2)) return mutateBytes(rng, m.value);
  const T = env.root.lookupType(m.typeUrl.slice(1));
  try {
    const obj = T.toObject(T.decode(m.value), { longs: String, enums: Number, defaults: true }) as Record<string, unknown>;
    mutateObject(env, rng, T, obj);
    return T.encode(T.fromObject(obj)).finish();
  } catch {
    return mutateBytes(rng, m.value);
  }
}

// --------------------------------------------------------------- twins

/** Run `txs` in a block on F and what must remain of them on R; compare app hashes. */
function twinBlock(env: FuzzEnv, r: FuzzReport, txs: Uint8Array[]): FinalizeBlockResult {
  const { F, R } = env;
  env.timeNs += 1_000_000_000n;
  const height = F.height + 1n;
  const req: FinalizeBlockRequest = { txs, height, timeNs: env.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20).fill(7) };
  const rf = F.finalizeBlock(req);
  F.commit();
  const twins: Uint8Array[] = [];
  rf.txResults.forEach((res, i) => {
    if (res.code === 0) {
      twins.push(txs[i]!);
      return;
    }
    checkCode(r, res.codespace, res.code, res.log, 'deliver');
    const anteEvent = res.events.find((e) => e.type === 'tx');
    if (!anteEvent) return; // failed in the ante handler: must have changed nothing
    const a = Object.fromEntries(anteEvent.attributes.map((x) => [x.key, x.value]));
    const key = env.keys.get(a.signer!);
    if (!key) {
      finding(r, `a tx by ${a.signer} passed the ante handler but its key is unknown`);
      return;
    }
    // What a failed-but-paid tx keeps: the fee, the sequence, the public key. A self-send of 1 uusdc with the same fee keeps exactly that.
    const acct = R.keepers.auth.getAccount(R.state, key.address);
    const gas = BigInt(a.fee!) * 1000n;
    twins.push(buildTx({ messages: [sendAny(key.address, key.address, 1n)], signers: [{ key, sequence: BigInt(a.sequence!) }], chainId: env.traffic.chainId, accountNumber: acct?.accountNumber ?? 0n, gas: gas < 100_000n ? 100_000n : gas, fee: [{ denom: 'uusdc', amount: a.fee! }] }).bytes);
  });
  const rr = R.finalizeBlock({ ...req, txs: twins });
  R.commit();
  r.twinBlocks++;
  if (hex(rf.appHash) !== hex(rr.appHash)) {
    const diff = stateDiff(F, R);
    finding(r, `height ${height}: fuzzed block hashes ${hex(rf.appHash)}, twin ${hex(rr.appHash)}; differing keys: ${diff.slice(0, 8).join(', ')}; twin results ${rr.txResults.map((x) => `${x.codespace}/${x.code}`).join(' ')}`);
    // resynchronise: copy nothing — stop comparing (further blocks would differ anyway)
    throw new Error(r.findings.at(-1));
  }
  return rf;
}

// --------------------------------------------------------------- fuzzers

/** Byte-wise mutations of valid txs through CheckTx, and in twin-checked blocks. */
export function fuzzTxBytes(env: FuzzEnv, n: number, rng: Rng, blockEvery = 400): FuzzReport {
  const r = report('tx bytes (CheckTx + blocks)');
  const t0 = performance.now();
  let batch: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const base = rng.chance(0.5) ? rng.pick(env.txs) : rng.pick(env.corpus);
    const tx = rng.chance(0.05) ? Buffer.concat([base, rng.pick(env.corpus)]) : mutateBytes(rng, base);
    if (Buffer.from(tx).equals(Buffer.from(base))) continue;
    r.inputs++;
    let res;
    try {
      res = env.F.checkTx({ tx, type: rng.chance(0.9) ? 'new' : 'recheck' });
    } catch (e) {
      finding(r, `CheckTx threw: ${(e as Error).stack}`);
      continue;
    }
    if (res.code === 0) {
      r.accepted++;
      finding(r, `a mutated tx passed CheckTx: ${Buffer.from(tx).toString('hex').slice(0, 200)}`);
    } else {
      r.rejected++;
      checkCode(r, res.codespace, res.code, res.log, 'CheckTx');
    }
    if (batch.length < 150) batch.push(tx);
    if ((i + 1) % blockEvery === 0) {
      twinBlock(env, r, batch);
      batch = [];
      refreshCorpus(env);
    }
  }
  if (batch.length) twinBlock(env, r, batch);
  r.ms = performance.now() - t0;
  return r;
}

/** Field-wise mutations run through validateBasic and the handler on a reverted branch of F's state. */
export function fuzzMsgFields(env: FuzzEnv, n: number, rng: Rng, invariantsEvery = 2_000): FuzzReport {
  const r = report('message fields (handlers)');
  const t0 = performance.now();
  const F = env.F;
  const before = hex(F.appHash);
  for (let i = 0; i < n; i++) {
    const m = rng.pick(env.msgs);
    const def = env.defs.get(m.typeUrl)!;
    const bytes = mutateMessage(env, rng, m);
    r.inputs++;
    let msg: unknown;
    try {
      msg = def.type.decode(bytes);
    } catch {
      r.rejected++;
      inc(r.codes, 'tx/3'); // the ante handler refuses a message that does not decode (tx/3)
      continue;
    }
    const branch = new Branch(F.state);
    const meter = new GasMeter(50_000_000);
    const journal = new Journal();
    const mode = rng.chance(0.8) ? 'deliver' : 'check';
    const ctx: Ctx = {
      store: new GasKV(branch, meter),
      mode,
      chainId: F.chainId,
      height: F.height + 1n,
      timeNs: env.timeNs + 1_000_000_000n,
      timeSec: (env.timeNs + 1_000_000_000n) / 1_000_000_000n,
      proposer: new Uint8Array(20),
      gas: meter,
      events: new EventSink(),
      journal,
    };
    try {
      def.validateBasic(msg);
      if (mode === 'check') def.precheck?.(ctx, msg);
      else def.handle(ctx, msg);
      r.accepted++;
    } catch (e) {
      if (e instanceof ChainError) {
        r.rejected++;
        checkCode(r, e.codespace, e.code, e.message, `${m.typeUrl}`);
      } else finding(r, `${m.typeUrl} threw a non-ChainError: ${(e as Error)?.stack ?? e} (value ${Buffer.from(bytes).toString('hex').slice(0, 300)})`);
    } finally {
      journal.revert(); // the branch is dropped: nothing of it may remain, in the store or in memory
    }
    if ((i + 1) % invariantsEvery === 0) {
      const broken = F.runInvariants();
      if (broken.length) {
        finding(r, `after ${i + 1} handler calls (last ${m.typeUrl}) in-memory state differs from the store: ${JSON.stringify(broken).slice(0, 500)}`);
        break;
      }
    }
  }
  if (hex(F.appHash) !== before) finding(r, 'committed app hash changed during handler fuzzing');
  // A normal block on F and R: if any handler call left a trace (in a cache, an index, a book), the hashes part.
  twinBlock(env, r, env.txs.slice(0, 10));
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

const SIGNER_FIELD: Record<string, string> = {
  '/perpchain.bank.v1.MsgSend': 'fromAddress',
  '/perpchain.prices.v1.MsgUpdatePrices': 'feeder',
};

/** Mutated messages re-signed (valid signature, right sequence) by the signer they name, in twin-checked blocks. */
export function fuzzSignedMsgs(env: FuzzEnv, n: number, rng: Rng, perBlock = 16): FuzzReport {
  const r = report('signed mutated messages (blocks with twins)');
  const t0 = performance.now();
  const signers = env.traffic.all;
  while (r.inputs < n) {
    const txs: Uint8Array[] = [];
    for (const key of rng.shuffle(signers).slice(0, Math.min(perBlock, n - r.inputs))) {
      const m = rng.pick(env.msgs.filter((x) => x.typeUrl !== '/perpchain.prices.v1.MsgInjectPrices'));
      const T = env.root.lookupType(m.typeUrl.slice(1));
      let value: Uint8Array;
      try {
        const obj = T.toObject(T.decode(m.value), { longs: String, enums: Number, defaults: true }) as Record<string, unknown>;
        mutateObject(env, rng, T, obj);
        const sf = SIGNER_FIELD[m.typeUrl] ?? (T.fields.authority ? 'authority' : 'owner');
        if (rng.chance(0.9)) obj[sf] = key.address; // so the signature check passes and the message itself is exercised
        value = T.encode(T.fromObject(obj)).finish();
      } catch {
        value = mutateBytes(rng, m.value);
      }
      const acct = env.F.keepers.auth.getAccount(env.F.state, key.address);
      txs.push(buildTx({ messages: [Any.fromPartial({ typeUrl: m.typeUrl, value })], signers: [{ key, sequence: acct?.sequence ?? 0n }], chainId: env.traffic.chainId, accountNumber: acct?.accountNumber ?? 0n, gas: 2_000_000n }).bytes);
      r.inputs++;
    }
    const rf = twinBlock(env, r, txs);
    for (const t of rf.txResults) {
      if (t.code === 0) r.accepted++;
      else r.rejected++;
    }
  }
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

// ------------------------------------------------------------------ ABCI

/** Valid Request frames of every type (bodies), built around F's chain. */
function abciCorpus(env: FuzzEnv, rng: Rng): Array<{ type: string; body: Uint8Array }> {
  const h = Number(env.F.height + 1n);
  const time = { seconds: Number(env.timeNs / 1_000_000_000n) + 1, nanos: 5 };
  const txs = env.txs.slice(0, 5);
  const reqs: Array<[string, unknown]> = [
    ['echo', { echo: { message: 'hello' } }],
    ['flush', { flush: {} }],
    ['info', { info: { version: '0.38.17', blockVersion: 11, p2pVersion: 8, abciVersion: '2.0.0' } }],
    ['query', { query: { path: 'bank/balance/' + env.traffic.traders[0]!.address, data: new Uint8Array(), height: 0, prove: false } }],
    ['query', { query: { path: 'store/bank/supply/', prove: true } }],
    ['query', { query: { path: 'clob/book/0/10' } }],
    ['query', { query: { path: 'subaccounts/subaccount/' + env.traffic.degens[0]!.address + '/0' } }],
    ['checkTx', { checkTx: { tx: rng.pick(env.txs), type: abci.CheckTxType.NEW } }],
    ['checkTx', { checkTx: { tx: rng.pick(env.txs), type: abci.CheckTxType.RECHECK } }],
    ['prepareProposal', { prepareProposal: { maxTxBytes: 1_000_000, txs, localLastCommit: { round: 0, votes: [] }, misbehavior: [], height: h, time, nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) } }],
    ['processProposal', { processProposal: { txs, proposedLastCommit: { round: 0, votes: [] }, misbehavior: [], hash: new Uint8Array(32), height: h, time, nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) } }],
    ['extendVote', { extendVote: { hash: new Uint8Array(32), height: h, time, txs, proposedLastCommit: { round: 0, votes: [] }, misbehavior: [], nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) } }],
    ['verifyVoteExtension', { verifyVoteExtension: { hash: new Uint8Array(32), validatorAddress: new Uint8Array(20), height: h, voteExtension: new Uint8Array() } }],
    ['finalizeBlock', { finalizeBlock: { txs, decidedLastCommit: { round: 0, votes: [] }, misbehavior: [], hash: new Uint8Array(32), height: h, time, nextValidatorsHash: new Uint8Array(32), proposerAddress: new Uint8Array(20) } }],
    ['initChain', { initChain: { time, chainId: 'other', initialHeight: 1, appStateBytes: Buffer.from('{}') } }],
    ['listSnapshots', { listSnapshots: {} }],
    ['offerSnapshot', { offerSnapshot: { snapshot: { height: 1, format: 1, chunks: 1, hash: new Uint8Array(32) }, appHash: new Uint8Array(32) } }],
    ['loadSnapshotChunk', { loadSnapshotChunk: { height: 1, format: 1, chunk: 0 } }],
    ['applySnapshotChunk', { applySnapshotChunk: { index: 0, chunk: new Uint8Array(10), sender: 'x' } }],
  ];
  return reqs.map(([type, r]) => ({ type, body: abci.Request.encode(abci.Request.create(r as abci.IRequest)).finish() }));
}

/** One fuzzed frame body: a mutated corpus request, a synthetic one with random field values, or raw bytes. */
function abciBody(env: FuzzEnv, rng: Rng, corpus: Array<{ type: string; body: Uint8Array }>): Uint8Array {
  const c = rng.int(10);
  if (c < 6) return mutateBytes(rng, rng.pick(corpus).body);
  if (c < 9) {
    // a well-formed request with hostile values
    const big = rng.pick([0, 1, -1, 2 ** 53, -(2 ** 53), 2 ** 62, 1e18]);
    const bytes = Buffer.from(rng.bytes(rng.pick([0, 1, 32, 300])));
    const r = rng.pick<unknown>([
      { query: { path: STRING_VALUES(env, rng) + '/' + STRING_VALUES(env, rng), data: bytes, height: big, prove: rng.chance(0.5) } },
      { checkTx: { tx: bytes, type: rng.pick([0, 1, 7]) } },
      { finalizeBlock: { txs: [bytes, ...env.txs.slice(0, rng.int(3))], height: rng.chance(0.5) ? Number(env.F.height + 1n) : big, time: { seconds: big, nanos: rng.pick([0, -1, 999_999_999, 1e9]) }, hash: bytes, proposerAddress: bytes } },
      { prepareProposal: { maxTxBytes: big, txs: [bytes], height: big, time: { seconds: big, nanos: 0 } } },
      { processProposal: { txs: [bytes, bytes], height: big, hash: bytes } },
      { verifyVoteExtension: { hash: bytes, validatorAddress: bytes, height: big, voteExtension: bytes } },
      { extendVote: { hash: bytes, height: big, txs: [bytes] } },
      { info: { version: STRING_VALUES(env, rng) } },
      { echo: { message: STRING_VALUES(env, rng) } },
      { initChain: { chainId: STRING_VALUES(env, rng), appStateBytes: bytes, initialHeight: big } },
      { offerSnapshot: {} },
    ]);
    try {
      return abci.Request.encode(abci.Request.create(r as abci.IRequest)).finish();
    } catch {
      return bytes;
    }
  }
  return rng.bytes(rng.int(200));
}

/** Through FrameDecoder → Request.decode → AbciHandler → App, as the socket server does. */
export async function fuzzAbciFrames(env: FuzzEnv, n: number, rng: Rng): Promise<FuzzReport> {
  const r = report('ABCI frames (framing + handler)');
  const t0 = performance.now();
  const corpus = abciCorpus(env, rng);
  const handler = new AbciHandler(env.F, () => undefined);
  const height = env.F.height;
  const hash = hex(env.F.appHash);
  let decoder = new FrameDecoder(1 << 20);
  const answer = async (body: Buffer): Promise<void> => {
    let req: abci.Request;
    try {
      req = abci.Request.decode(body);
    } catch {
      r.rejected++;
      inc(r.codes, 'abci:undecodable'); // answered with an exception by the connection
      return;
    }
    if (req.value === 'commit') {
      inc(r.codes, 'abci:commit-skipped');
      return; // a Commit of a fuzzed FinalizeBlock would be a legitimate state change; never sent
    }
    try {
      const out = await handler.handle(req);
      const resp = abci.Response.decode(out.subarray(readPrefix(out)));
      r.accepted++;
      if (resp.checkTx && resp.checkTx.code) checkCode(r, resp.checkTx.codespace ?? '', resp.checkTx.code, resp.checkTx.log ?? '', 'ABCI CheckTx');
      if (resp.query && resp.query.code) checkCode(r, resp.query.codespace ?? '', resp.query.code, resp.query.log ?? '', 'ABCI Query');
      if (resp.finalizeBlock) for (const t of resp.finalizeBlock.txResults ?? []) if (t.code !== 0) checkCode(r, t.codespace ?? '', t.code ?? 0, t.log ?? '', 'ABCI FinalizeBlock');
    } catch (e) {
      r.rejected++;
      // By design: BadRequestError for an empty/unknown request, and the App's own refusals (plain Errors with a message)
      // become Response.exception. A TypeError/ReferenceError/RangeError is a bug in the server or the App.
      const err = e as Error;
      if (err instanceof BadRequestError) inc(r.codes, 'abci:bad-request');
      else if (err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError) {
        finding(r, `ABCI ${req.value}: ${err.constructor.name}: ${err.stack}`);
      } else inc(r.codes, `abci:app-refused:${req.value}`);
    }
  };
  let pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const body = abciBody(env, rng, corpus);
    r.inputs++;
    let frame: Buffer = encodeFrame(body);
    if (rng.chance(0.03)) frame = Buffer.concat([Buffer.from(mutateBytes(rng, frame.subarray(0, 3), 1)), frame.subarray(3)]); // a damaged length prefix
    // random chunking
    let off = 0;
    try {
      while (off < frame.length) {
        const len = rng.chance(0.7) ? frame.length - off : 1 + rng.int(frame.length - off);
        decoder.push(frame.subarray(off, off + len), (b) => pending.push(answer(Buffer.from(b))));
        off += len;
      }
    } catch (e) {
      if (!(e instanceof FrameError)) finding(r, `FrameDecoder threw ${(e as Error).stack}`);
      inc(r.codes, 'abci:framing-error'); // the connection answers with an exception and closes
      r.rejected++;
      decoder = new FrameDecoder(1 << 20); // a new connection
    }
    if (decoder.pendingBytes > 0 && rng.chance(0.2)) decoder = new FrameDecoder(1 << 20); // peer hung up mid-frame
    if (pending.length >= 64) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  if (env.F.height !== height || hex(env.F.appHash) !== hash) finding(r, `ABCI fuzzing changed the committed state: ${height} ${hash} → ${env.F.height} ${hex(env.F.appHash)}`);
  twinBlock(env, r, env.txs.slice(0, 10)); // abandons any fuzzed pending block; must hash like the twin
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

function readPrefix(b: Uint8Array): number {
  let i = 0;
  while (b[i]! & 0x80) i++;
  return i + 1;
}

/** The same frames over real TCP connections to the ABCI server. */
export async function fuzzAbciSocket(env: FuzzEnv, n: number, rng: Rng): Promise<FuzzReport> {
  const r = report('ABCI frames over TCP');
  const t0 = performance.now();
  const corpus = abciCorpus(env, rng).filter((c) => c.type !== 'flush');
  const errors: string[] = [];
  const server: AbciServer = await startAbciServer({ app: env.F, addr: 'tcp://127.0.0.1:0', log: (level, msg) => level === 'error' && errors.length < 5 && errors.push(msg), maxFrameBytes: 1 << 20 });
  const height = env.F.height;
  const hash = hex(env.F.appHash);
  const port = Number(server.address.split(':').pop());
  try {
    let sent = 0;
    while (sent < n) {
      const sock: Socket = connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      let buf = Buffer.alloc(0);
      let responses = 0;
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const l = readLen(buf);
          if (!l || buf.length < l[0] + l[1]) break;
          responses++;
          buf = buf.subarray(l[0] + l[1]);
        }
      });
      sock.on('error', () => undefined);
      let isClosed = false;
      const closed = new Promise<void>((res) => sock.once('close', () => ((isClosed = true), res())));
      await new Promise<void>((res) => sock.once('connect', () => res()));
      const burst = Math.min(n - sent, 50 + rng.int(200));
      for (let i = 0; i < burst; i++) {
        let body = abciBody(env, rng, corpus);
        try {
          if (abci.Request.decode(body).value === 'commit') body = corpus[0]!.body;
        } catch {
          /* undecodable: fine */
        }
        // bodies may be anything, the framing stays intact (a damaged length prefix desynchronises
        // the stream by definition: the server then rightly waits for the bytes it was promised)
        if (!sock.write(encodeFrame(body))) await new Promise((res) => sock.once('drain', res));
        sent++;
        r.inputs++;
      }
      sock.write(encodeFrame(abci.Request.encode({ flush: {} }).finish()));
      if (rng.chance(0.2)) {
        // ...and now and then a damaged prefix after everything (too long, over the cap, or cut off)
        sock.write(rng.pick([Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from([0x85, 0x01, 0x0a])]));
        sent++;
        r.inputs++;
      }
      // every request is answered in order (or the connection is closed after a framing error)
      const t = performance.now();
      while (responses < burst + 1 && !isClosed && performance.now() - t < 10_000) await new Promise((res) => setTimeout(res, 5));
      if (!isClosed && responses < burst + 1) finding(r, `ABCI server answered ${responses} of ${burst + 1} requests within 10 s`);
      r.accepted += Math.min(burst, Math.max(0, responses - 1));
      sock.destroy();
      await closed;
    }
    // still serving, and nothing changed: a fresh connection gets Info with the same height and hash
    const info = await abciInfo(port);
    if (info.lastBlockHeight !== height || hex(info.lastBlockAppHash) !== hash) finding(r, `after socket fuzzing Info says ${info.lastBlockHeight} ${hex(info.lastBlockAppHash)}, expected ${height} ${hash}`);
  } finally {
    await server.close();
  }
  r.rejected = r.inputs - r.accepted;
  inc(r.codes, 'abci:socket-connections');
  if (env.F.height !== height || hex(env.F.appHash) !== hash) finding(r, 'socket fuzzing changed the committed state');
  twinBlock(env, r, env.txs.slice(0, 10));
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

async function abciInfo(port: number): Promise<{ lastBlockHeight: bigint; lastBlockAppHash: Uint8Array }> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((res) => sock.once('connect', () => res()));
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((res) =>
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      const len = readLen(all);
      if (len && all.length >= len[0] + len[1]) res(all.subarray(len[1], len[1] + len[0]));
    }),
  );
  sock.write(encodeFrame(abci.Request.encode({ info: { version: 'fuzz' } }).finish()));
  sock.write(encodeFrame(abci.Request.encode({ flush: {} }).finish()));
  const body = await done;
  sock.destroy();
  const info = abci.Response.decode(body).info!;
  return { lastBlockHeight: BigInt((info.lastBlockHeight ?? 0).toString()), lastBlockAppHash: info.lastBlockAppHash ?? new Uint8Array() };
}

function readLen(b: Buffer): [number, number] | undefined {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < Math.min(b.length, 10); i++) {
    n += (b[i]! & 0x7f) * mul;
    mul *= 128;
    if (!(b[i]! & 0x80)) return [n, i + 1];
  }
  return undefined;
}

// ------------------------------------------------------------------- API

interface StubWs {
  readyState: number;
  bufferedAmount: number;
  sent: string[];
  send(data: string | Buffer): void;
  close(): void;
  terminate(): void;
  ping(): void;
  on(): void;
}

function apiRequests(env: FuzzEnv, rng: Rng): Array<Record<string, unknown>> {
  const t = env.traffic;
  const a = rng.pick(t.traders).address;
  const tx = Buffer.from(rng.pick(env.txs)).toString('base64');
  return [
    { id: 1, method: 'status' },
    { id: 2, method: 'ping' },
    { id: 3, method: 'markets' },
    { id: 4, method: 'book', params: { market: 'BTC-USD', depth: 10 } },
    { id: 5, method: 'book', params: { market: 1 } },
    { id: 6, method: 'account', params: { address: a } },
    { id: 7, method: 'subaccount', params: { owner: a, number: 0 } },
    { id: 8, method: 'subaccounts', params: { owner: a } },
    { id: 9, method: 'order', params: { id: '1' } },
    { id: 10, method: 'orders', params: { owner: a, number: 0 } },
    { id: 11, method: 'client_order', params: { owner: a, number: 0, client_id: 1 } },
    { id: 12, method: 'fills', params: { market: 'ETH-USD', owner: a } },
    { id: 13, method: 'pool' },
    { id: 14, method: 'query', params: { path: 'clob/book/0/5' } },
    { id: 15, method: 'subscribe', params: { channel: 'orderbook:BTC-USD' } },
    { id: 16, method: 'unsubscribe', params: { channel: 'orderbook:BTC-USD' } },
    { id: 17, method: 'subscribe', params: { channel: `account:${a}` } },
    { id: 18, method: 'subscribe', params: { channel: 'candles:ETH-USD:1m' } },
    { id: 19, method: 'tx', params: { hash: 'AB'.repeat(32) } },
    { id: 20, method: 'submit_tx', params: { tx } },
  ];
}

function mutateJsonValue(env: FuzzEnv, rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0:
      return null;
    case 1:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53, NaN, 127, 128, 4294967296]);
    case 2:
      return STRING_VALUES(env, rng);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return true;
    case 6:
      return 'x'.repeat(rng.pick([100, 10_000]));
    case 7:
      return { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } };
    case 8:
      return rng.pick(['BTC-USD', 'ETH-USD', 'DOGE-USD', '0', '1', '99', '-1', 'orderbook:', 'candles:BTC-USD:7m', 'account:', 'trades:BTC-USD']);
    case 9:
      return Buffer.from(rng.bytes(rng.int(100))).toString('base64');
    case 10:
      return Buffer.from(mutateBytes(rng, rng.pick(env.txs))).toString('base64');
    default:
      return Array.from({ length: rng.int(5) }, () => rng.u32());
  }
}

function wsFrame(env: FuzzEnv, rng: Rng, corpus: Array<Record<string, unknown>>): { data: Buffer; binary: boolean } {
  const c = rng.int(20);
  if (c === 0) return { data: Buffer.from(rng.bytes(rng.int(300))), binary: rng.chance(0.5) };
  if (c === 1) return { data: Buffer.from('{"id":1,"method":"' + 'a'.repeat(rng.pick([10, 70_000])) + '"}'), binary: false };
  const req = structuredClone(rng.pick(corpus)) as Record<string, unknown>;
  const params = (req.params ?? {}) as Record<string, unknown>;
  const keys = Object.keys(params);
  const k = rng.int(6);
  if (k === 0 && keys.length) params[rng.pick(keys)] = mutateJsonValue(env, rng);
  else if (k === 1) params[rng.pick(['x', 'owner', 'number', 'market', 'depth', 'channel', 'path', 'tx', 'hash', 'wait', 'client_id', 'id'])] = mutateJsonValue(env, rng);
  else if (k === 2) req.id = mutateJsonValue(env, rng);
  else if (k === 3) req.method = rng.chance(0.5) ? mutateJsonValue(env, rng) : rng.pick(['', 'SUBSCRIBE', 'constructor', '__proto__', 'toString', 'submit_tx ', 'hasOwnProperty']);
  else if (k === 4) req.params = mutateJsonValue(env, rng);
  else if (keys.length) delete params[rng.pick(keys)];
  if (k !== 4) req.params = params;
  let text = JSON.stringify(req);
  if (rng.chance(0.1)) text = Buffer.from(mutateBytes(rng, Buffer.from(text))).toString('latin1');
  return { data: Buffer.from(text), binary: rng.chance(0.01) };
}

/** API replies: every error has a code other than "internal"; chain codes are registered. */
function checkApiReply(r: FuzzReport, text: string): void {
  let j: { id?: unknown; result?: unknown; error?: { code?: string; chain_code?: string; message?: string }; type?: string };
  try {
    j = JSON.parse(text);
  } catch {
    finding(r, `API sent a non-JSON frame: ${text.slice(0, 100)}`);
    return;
  }
  if (j.error) {
    r.rejected++;
    inc(r.codes, `api:${j.error.code}`);
    if (j.error.code === 'internal') finding(r, `API internal error: ${j.error.message}`);
    if (j.error.chain_code) {
      const [cs, code] = j.error.chain_code.split('/');
      if (!lookupError(cs!, Number(code))) finding(r, `API error with unregistered chain code ${j.error.chain_code}`);
    }
  } else if ('result' in j) {
    r.accepted++;
    const ct = (j.result as { check_tx?: { code: number; codespace: string; log: string } } | null)?.check_tx;
    if (ct && ct.code !== 0) checkCode(r, ct.codespace, ct.code, ct.log, 'API submit_tx');
  }
}

/** Through the API server's frame handler, with a stub socket. */
export async function fuzzWsFrames(env: FuzzEnv, n: number, rng: Rng): Promise<FuzzReport> {
  const r = report('WebSocket frames (API handler)');
  const t0 = performance.now();
  const mempool = new Mempool(env.F);
  const server = new ApiServer({ app: env.F, submitter: new MempoolSubmitter(mempool), host: '127.0.0.1', port: 0, limits: { max_messages_per_second: 1e9, max_messages_per_second_per_ip: 1e9, max_frame_bytes: 64 * 1024, max_subscriptions: 1e6 }, serveWeb: false });
  const handleFrame = (server as unknown as { handleFrame(c: unknown, d: Buffer, b: boolean): void }).handleFrame.bind(server);
  const height = env.F.height;
  const hash = hex(env.F.appHash);
  const stub = (): StubWs => {
    const s: StubWs = { readyState: WebSocket.OPEN, bufferedAmount: 0, sent: [], send: (d) => void s.sent.push(typeof d === 'string' ? d : d.toString()), close: () => undefined, terminate: () => undefined, ping: () => undefined, on: () => undefined };
    return s;
  };
  const { TokenBucket } = await import('../../../chain/api/limits.js');
  let ws = stub();
  let conn = { id: 1, ws, ip: '127.0.0.1', subs: new Map(), bucket: new TokenBucket(1e9, performance.now()), alive: true, state: 'open' };
  const corpus = apiRequests(env, rng);
  try {
    for (let i = 0; i < n; i++) {
      const f = wsFrame(env, rng, corpus);
      r.inputs++;
      try {
        handleFrame(conn, f.data, f.binary);
      } catch (e) {
        finding(r, `handleFrame threw: ${(e as Error).stack}`);
      }
      if ((i + 1) % 50 === 0) {
        await new Promise((res) => setImmediate(res));
        for (const t of ws.sent) checkApiReply(r, t);
        ws.sent.length = 0;
        if (rng.chance(0.1)) {
          ws = stub();
          conn = { id: conn.id + 1, ws, ip: '127.0.0.1', subs: new Map(), bucket: new TokenBucket(1e9, performance.now()), alive: true, state: 'open' };
        }
      }
    }
    await new Promise((res) => setTimeout(res, 20));
    for (const t of ws.sent) checkApiReply(r, t);
  } finally {
    await server.close();
  }
  if (env.F.height !== height || hex(env.F.appHash) !== hash) finding(r, 'API fuzzing changed the committed state');
  twinBlock(env, r, env.txs.slice(0, 10));
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

/** The same over a real WebSocket connection (the server listening on a free port). */
export async function fuzzWsSocket(env: FuzzEnv, n: number, rng: Rng): Promise<FuzzReport> {
  const r = report('WebSocket frames over a socket');
  const t0 = performance.now();
  const mempool = new Mempool(env.F);
  const server = new ApiServer({ app: env.F, submitter: new MempoolSubmitter(mempool), host: '127.0.0.1', port: 0, limits: { max_messages_per_second: 1e9, max_messages_per_second_per_ip: 1e9, max_frame_bytes: 64 * 1024, max_subscriptions: 1e6 }, serveWeb: false });
  const addr = await server.listen();
  const height = env.F.height;
  const hash = hex(env.F.appHash);
  const corpus = apiRequests(env, rng);
  try {
    let sent = 0;
    while (sent < n) {
      const ws = new WebSocket(`ws://${addr.host}:${addr.port}`);
      let replies = 0;
      let closedCode = 0;
      ws.on('message', (d) => {
        replies++;
        const text = d.toString();
        if (!text.includes('"type":"welcome"') && !text.includes('"type":"snapshot"') && !text.includes('"type":"delta"') && !text.includes('"type":"update"')) checkApiReply(r, text);
      });
      ws.on('error', () => undefined);
      const closed = new Promise<void>((res) => ws.once('close', (code) => ((closedCode = code), res())));
      await new Promise<void>((res, rej) => (ws.once('open', () => res()), ws.once('error', rej)));
      const burst = Math.min(n - sent, 200);
      for (let i = 0; i < burst; i++) {
        const f = wsFrame(env, rng, corpus);
        // mostly valid UTF-8 text (so the burst is not cut short by a 1007 close), now and then not
        ws.send(f.binary || rng.chance(0.01) ? f.data : Buffer.from(f.data.toString('utf8')), { binary: f.binary });
        sent++;
        r.inputs++;
      }
      // a final ping must be answered: the connection is still served after the burst
      ws.send(JSON.stringify({ id: 'last', method: 'ping' }));
      const t = performance.now();
      while (replies < burst + 1 && closedCode === 0 && performance.now() - t < 5_000) await new Promise((res) => setTimeout(res, 10));
      // 1007: a text frame that is not UTF-8 (the WebSocket protocol's answer); 1009: over 4 × max_frame_bytes
      if (closedCode !== 0 && closedCode !== 1007 && closedCode !== 1009) finding(r, `server closed the connection with ${closedCode}`);
      if (closedCode) inc(r.codes, `ws:closed-${closedCode}`);
      ws.close();
      await closed;
    }
    // the server is still there
    const ws = new WebSocket(`ws://${addr.host}:${addr.port}`);
    const pong = await new Promise<string>((res, rej) => {
      ws.on('message', (d) => {
        const t = d.toString();
        if (t.includes('"pong"')) res(t);
      });
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'ping' })));
      ws.once('error', rej);
      setTimeout(() => rej(new Error('no pong')), 10_000);
    });
    if (!pong.includes('"pong":true')) finding(r, `no pong after fuzzing: ${pong}`);
    ws.close();
  } finally {
    await server.close();
  }
  if (env.F.height !== height || hex(env.F.appHash) !== hash) finding(r, 'API socket fuzzing changed the committed state');
  twinBlock(env, r, env.txs.slice(0, 10));
  refreshCorpus(env);
  r.ms = performance.now() - t0;
  return r;
}

export function formatReport(r: FuzzReport): string {
  const codes = [...r.codes.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${r.name}: ${r.inputs} inputs (${r.rejected} rejected, ${r.accepted} accepted), ${r.twinBlocks} twin-checked blocks, ${(r.ms / 1000).toFixed(1)} s, ${Math.round(r.inputs / (r.ms / 1000))}/s; findings ${r.findings.length}\n    ${codes}${r.findings.length ? `\n    FINDINGS:\n      ${r.findings.slice(0, 10).join('\n      ')}` : ''}`;
}
