/**
 * The 1,000,000-input fuzz run (test/reliability/lib/fuzz.ts):
 *
 *   node --import tsx scripts/reliability/fuzz.ts [--scale 1] [--seed 1]
 *
 * Per scale unit: 320k tx-byte mutations (CheckTx, and blocks with a twin
 * App), 300k message-field mutations through the handlers, 20k re-signed
 * mutated messages in twin-checked blocks, 250k ABCI frames through the
 * framing + handler, 30k ABCI frames over TCP, 150k WebSocket frames through
 * the API handler, 20k over a WebSocket — 1,090,000 inputs.
 * Exit 0 when nothing crashed, every rejection was a registered error, no
 * promise rejection went unhandled and every twin-checked block agreed.
 */
import { cpus, loadavg } from 'node:os';
import { Rng } from '../../test/helpers/rng.js';
import { formatReport, fuzzAbciFrames, fuzzAbciSocket, fuzzMsgFields, fuzzSignedMsgs, fuzzTxBytes, fuzzWsFrames, fuzzWsSocket, makeEnv, type FuzzEnv, type FuzzReport } from '../../test/reliability/lib/fuzz.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const scale = Number(arg('scale', '1'));
const seed = Number(arg('seed', '1'));
const unhandled: unknown[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e));
process.on('uncaughtException', (e) => unhandled.push(e));

const t0 = performance.now();
console.log(`fuzz: scale ${scale}, seed ${seed}; ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const env: FuzzEnv = makeEnv(seed, 40);
const rng = new Rng(seed * 7919);
const CHUNK = 50_000;

type Fuzzer = (env: FuzzEnv, n: number, rng: Rng) => FuzzReport | Promise<FuzzReport>;
const plan: Array<[string, Fuzzer, number]> = [
  ['tx bytes', fuzzTxBytes, 320_000],
  ['message fields', fuzzMsgFields, 300_000],
  ['signed messages', fuzzSignedMsgs, 20_000],
  ['ABCI frames', fuzzAbciFrames, 250_000],
  ['ABCI over TCP', fuzzAbciSocket, 30_000],
  ['WebSocket frames', fuzzWsFrames, 150_000],
  ['WebSocket over a socket', fuzzWsSocket, 20_000],
];

const totals: FuzzReport[] = [];
for (const [name, f, n0] of plan) {
  const n = n0 * scale;
  let merged: FuzzReport | undefined;
  for (let done = 0; done < n; done += CHUNK) {
    let r: FuzzReport;
    try {
      r = await f(env, Math.min(CHUNK, n - done), rng);
    } catch (e) {
      // a twin-checked block disagreed (the fuzzer stops there): report it as a finding
      r = { name, inputs: 0, rejected: 0, accepted: 0, codes: new Map(), twinBlocks: 0, findings: [`${name} aborted: ${(e as Error).stack ?? e}`], ms: 0 };
    }
    if (!merged) merged = r;
    else {
      merged.inputs += r.inputs;
      merged.rejected += r.rejected;
      merged.accepted += r.accepted;
      merged.twinBlocks += r.twinBlocks;
      merged.ms += r.ms;
      merged.findings.push(...r.findings);
      for (const [k, v] of r.codes) merged.codes.set(k, (merged.codes.get(k) ?? 0) + v);
    }
    console.log(`  ${name}: ${merged.inputs}/${n}, findings ${merged.findings.length}, ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(2)}`);
    if (merged.findings.length > 20) break;
  }
  totals.push(merged!);
}
const inputs = totals.reduce((s, r) => s + r.inputs, 0);
const findings = totals.reduce((s, r) => s + r.findings.length, 0);
console.log('');
for (const r of totals) console.log(formatReport(r));
console.log(`\ntotal: ${inputs} inputs, ${totals.reduce((s, r) => s + r.twinBlocks, 0)} twin-checked blocks, ${findings} findings, ${unhandled.length} unhandled rejections/exceptions, ${((performance.now() - t0) / 1000).toFixed(0)} s; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (const e of unhandled.slice(0, 5)) console.log(`UNHANDLED: ${(e as Error)?.stack ?? e}`);
const ok = findings === 0 && unhandled.length === 0;
console.log(ok ? 'OK: no crash, every rejection a registered error, no state change from an invalid input' : 'FAILED');
process.exit(ok ? 0 : 1);
