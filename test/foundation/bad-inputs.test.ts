/**
 * Every bad input gets its own registered error code (codespace + code, a
 * human log), changes nothing it must not change, and the App keeps serving.
 *
 * How "the app hash is unchanged" is judged: the block time is state
 * (app/time/), so a block holding only a bad tx can never hash like the
 * previous block. Each case therefore runs two twin in-memory Apps from the
 * same genesis, fed blocks with the same heights and times:
 *
 *   A: block [bad tx]          B: block []                (the tx must have no effect at all)
 *   A: block [bad tx]          B: block [self-send, same fee, same signer]
 *                                                          (the tx must keep only fee + sequence)
 *
 * A self-send of 1 uusdc writes the sender's balance back to the value it
 * had (minus the fee), so its only effects are exactly what a failed-but-paid
 * tx keeps: the fee moved to the fee collector, the sequence bumped and the
 * public key recorded. Equal app hashes then mean equal full states (the hash
 * commits to every key), and we additionally check the committed states key
 * by key so a failure names the differing keys. Then both twins run the same
 * valid tx from the same signer: it must succeed and the hashes stay equal.
 */
import { describe, expect, it } from 'vitest';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { secp256k1 } from '@noble/curves/secp256k1';
import { createHash } from 'node:crypto';
import { lookupError } from '../../chain/errors/index.js';
import { moduleAddress } from '../../chain/codec/address.js';
import type { CheckTxResult, ExecTxResult } from '../../chain/types.js';
import { TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import { TestKey } from '../helpers/keys.js';
import { buildTx, highS, msgSendAny, reorderedTxRaw, secpPubKeyAny, signatureOf, withSignature, type RawTxOptions } from '../helpers/rawtx.js';
import { account, balanceOf, hex, stateDiff } from '../helpers/state.js';

const BALANCE = 10_000_000n;
const SEND = 1_000n;

interface Expect {
  codespace: string;
  code: number;
  /** What the log must say besides the registered description. */
  log?: RegExp;
}

interface Env {
  a: TestKey;
  b: TestKey;
  /** A valid a → b send (sequence 0, account number 0), with overrides. */
  tx(o?: Partial<RawTxOptions>): Uint8Array;
}

interface BadCase {
  name: string;
  build(e: Env): Uint8Array;
  check: Expect;
  /** FinalizeBlock's result, when it differs from CheckTx's. */
  deliver?: Expect;
  /** 'none': nothing changes; 'fee': only the fee (this many uusdc), sequence and public key of the signer. */
  effect: 'none' | 'fee';
  fee?: bigint;
}

const tx = (code: number): Expect => ({ codespace: 'tx', code });
const bank = (code: number): Expect => ({ codespace: 'bank', code });

function defaultOpts(e: { a: TestKey; b: TestKey }): RawTxOptions {
  return {
    messages: [msgSendAny(e.a.address, e.b.address, SEND.toString())],
    signers: [{ key: e.a, sequence: 0n }],
    chainId: TEST_CHAIN_ID,
    accountNumber: 0n,
    extension: { chainId: TEST_CHAIN_ID, accountNumber: 0n },
  };
}

/** Build an a → b send whose gas limit leaves room for the ante handler but not for the message. */
function outOfGasTx(e: Env): Uint8Array {
  // Ante gas = tx_size_cost_per_byte (10) × size + sig_verify_cost (1000); the MsgSend charges a flat 1000 before any store access.
  let gas = 5_000n;
  for (let i = 0; i < 3; i++) {
    const bytes = e.tx({ gas, fee: [{ denom: 'uusdc', amount: '200' }] });
    gas = BigInt(10 * bytes.length + 1000 + 500);
  }
  return e.tx({ gas, fee: [{ denom: 'uusdc', amount: '200' }] });
}

const cases: BadCase[] = [
  { name: 'malformed bytes', build: () => Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]), check: tx(3), effect: 'none' },
  { name: 'empty tx (no messages)', build: () => new Uint8Array(), check: tx(20), effect: 'none' },
  { name: 'oversized tx (> max_tx_bytes)', build: (e) => e.tx({ memo: 'x'.repeat(70_000) }), check: tx(2), effect: 'none' },
  {
    name: 'wrong chain-id (TxExtension names it)',
    build: (e) => e.tx({ chainId: 'other-chain-7', extension: { chainId: 'other-chain-7', accountNumber: 0n } }),
    check: tx(4),
    effect: 'none',
  },
  { name: 'wrong chain-id without TxExtension', build: (e) => e.tx({ chainId: 'other-chain-7', extension: undefined }), check: tx(9), effect: 'none' },
  {
    name: 'bad signature (one bit flipped)',
    build: (e) => {
      const t = e.tx();
      const sig = Uint8Array.from(signatureOf(t));
      sig[40] = sig[40]! ^ 0x01;
      return withSignature(t, sig);
    },
    check: tx(9),
    effect: 'none',
  },
  { name: 'signature of 63 bytes', build: (e) => { const t = e.tx(); return withSignature(t, signatureOf(t).subarray(0, 63)); }, check: tx(9), effect: 'none' },
  { name: 'high-S signature (s → n − s)', build: (e) => { const t = e.tx(); return withSignature(t, highS(signatureOf(t))); }, check: tx(10), effect: 'none' },
  {
    name: 'unknown public key type',
    build: (e) => e.tx({ signers: [{ key: e.a, sequence: 0n, pubKey: Any.fromPartial({ typeUrl: '/cosmos.crypto.ed25519.PubKey', value: e.a.pub }) }] }),
    check: tx(6),
    effect: 'none',
  },
  {
    name: 'public key of another account',
    build: (e) => e.tx({ signers: [{ key: e.a, sequence: 0n, pubKey: secpPubKeyAny(e.b.pub) }] }),
    check: tx(7),
    effect: 'none',
  },
  { name: 'first tx without a public key', build: (e) => e.tx({ signers: [{ key: e.a, sequence: 0n, pubKey: null }] }), check: tx(7), effect: 'none' },
  { name: 'wrong sequence', build: (e) => e.tx({ signers: [{ key: e.a, sequence: 1n }] }), check: tx(12), effect: 'none' },
  {
    name: 'wrong account number (TxExtension names it)',
    build: (e) => e.tx({ accountNumber: 5n, extension: { chainId: TEST_CHAIN_ID, accountNumber: 5n } }),
    check: tx(11),
    effect: 'none',
  },
  { name: 'wrong account number without TxExtension', build: (e) => e.tx({ accountNumber: 5n, extension: undefined }), check: tx(9), effect: 'none' },
  { name: 'fee below the minimum gas price', build: (e) => e.tx({ fee: [{ denom: 'uusdc', amount: '199' }] }), check: tx(14), effect: 'none' },
  { name: 'fee in another denom', build: (e) => e.tx({ fee: [{ denom: 'uatom', amount: '200' }] }), check: tx(13), effect: 'none' },
  {
    name: 'gas limit above the block gas limit',
    build: (e) => e.tx({ gas: 300_000_000n }),
    check: tx(15),
    // FinalizeBlock refuses it before the ante handler runs, as "block gas exceeded" (see the report).
    deliver: tx(24),
    effect: 'none',
  },
  { name: 'out of gas (fee and sequence kept, message reverted)', build: outOfGasTx, check: tx(17), effect: 'fee', fee: 200n },
  {
    name: 'unknown message type',
    build: (e) => e.tx({ messages: [Any.fromPartial({ typeUrl: '/cosmos.bank.v1beta1.MsgSend', value: new Uint8Array([10, 3, 97, 98, 99]) })] }),
    check: tx(18),
    effect: 'none',
  },
  {
    name: 'message bytes that do not decode',
    build: (e) => e.tx({ messages: [Any.fromPartial({ typeUrl: '/perpchain.bank.v1.MsgSend', value: new Uint8Array([0x0a, 0xff, 0xff]) })] }),
    check: tx(3),
    effect: 'none',
  },
  {
    name: 'send more than the balance',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, (BALANCE + 1n).toString())] }),
    check: bank(2),
    effect: 'fee',
    fee: 200n,
  },
  {
    name: 'send to a module account (the fee collector)',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, moduleAddress('fee_collector'), '5')] }),
    check: bank(6),
    effect: 'fee',
    fee: 200n,
  },
  { name: 'send to a malformed address', build: (e) => e.tx({ messages: [msgSendAny(e.a.address, 'perp1notanaddress', '5')] }), check: bank(3), effect: 'none' },
  {
    name: 'send to an address with another prefix',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, 'cosmos1pphs7cj9ccjqn0nrxn78ch2qmdc888g2hfu7hq', '5')] }),
    check: bank(3),
    effect: 'none',
  },
  { name: 'negative amount "-5"', build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, '-5')] }), check: bank(4), effect: 'none' },
  { name: 'zero amount "0"', build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, '0')] }), check: bank(4), effect: 'none' },
  { name: 'exponent amount "1e3"', build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, '1e3')] }), check: bank(4), effect: 'none' },
  {
    name: 'overflowing amount 2^128',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, (1n << 128n).toString())] }),
    check: bank(4),
    effect: 'none',
  },
  {
    name: 'an amount of 80 digits (too large, said so)',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, '9'.repeat(80))] }),
    check: { ...bank(4), log: /has 80 digits: larger than 2\^128 − 1/ },
    effect: 'none',
  },
  {
    name: 'a malformed signer address (said so, not "never received funds")',
    build: (e) => e.tx({ messages: [msgSendAny('perp1xyz', e.b.address, '5')] }),
    check: { ...tx(5), log: /signer "perp1xyz" is not a valid address/ },
    effect: 'none',
  },
  {
    name: 'signer without an account',
    build: (e) => {
      const ghost = new TestKey('never-funded');
      return e.tx({ messages: [msgSendAny(ghost.address, e.b.address, '5')], signers: [{ key: ghost, sequence: 0n }] });
    },
    check: tx(8),
    effect: 'none',
  },
  { name: 'memo too long (257 characters)', build: (e) => e.tx({ memo: 'm'.repeat(257) }), check: tx(21), effect: 'none' },
  { name: 'two signers', build: (e) => e.tx({ signers: [{ key: e.a, sequence: 0n }, { key: e.b, sequence: 0n }] }), check: tx(5), effect: 'none' },
  {
    name: 'messages of two different signers',
    build: (e) => e.tx({ messages: [msgSendAny(e.a.address, e.b.address, '5'), msgSendAny(e.b.address, e.a.address, '5')] }),
    check: tx(5),
    effect: 'none',
  },
  { name: 'non-canonical TxRaw: trailing bytes', build: (e) => Buffer.concat([e.tx(), Uint8Array.from([0x20, 0x01])]), check: tx(3), effect: 'none' },
  { name: 'non-canonical TxRaw: fields out of order', build: (e) => reorderedTxRaw(e.tx()), check: tx(3), effect: 'none' },
  { name: 'timeout height passed', build: (e) => e.tx({ timeoutHeight: 1n }), check: tx(22), effect: 'none' },
  {
    name: 'unknown critical extension option',
    build: (e) => e.tx({ critical: [Any.fromPartial({ typeUrl: '/some.Extension', value: new Uint8Array() })] }),
    check: tx(23),
    effect: 'none',
  },
];

function expectRegistered(r: CheckTxResult | ExecTxResult, exp: Expect, where: string): void {
  expect({ where, codespace: r.codespace, code: r.code }).toEqual({ where, codespace: exp.codespace, code: exp.code });
  if (exp.log) expect(r.log).toMatch(exp.log);
  const def = lookupError(r.codespace, r.code);
  expect(def, `${r.codespace}/${r.code} is registered`).toBeDefined();
  // A human message: the registered description, then (usually) what exactly was wrong; one line, no stack, no JS artefacts.
  expect(r.log.startsWith(def!.description), `log "${r.log}" starts with "${def!.description}"`).toBe(true);
  expect(r.log).not.toMatch(/\n|\bat \S+ \(|\[object |\bundefined\b|\bNaN\b|Error:/);
  expect(r.log.length).toBeLessThan(400);
}

/** Two twin chains after one empty block (so genesis is committed and account numbers are queryable). */
function twins(): { A: TestChain; B: TestChain; env: Env } {
  const A = TestChain.create({ accounts: 3, balance: BALANCE });
  const B = TestChain.create({ accounts: 3, balance: BALANCE });
  A.block();
  B.block();
  const [a, b] = A.keys as [TestKey, TestKey];
  expect(account(A.app, a.address)?.account_number).toBe('0');
  const env: Env = { a, b, tx: (o = {}) => buildTx({ ...defaultOpts({ a, b }), ...o }).bytes };
  return { A, B, env };
}

async function followUp(A: TestChain, B: TestChain, a: TestKey, b: TestKey): Promise<void> {
  const seq = BigInt(account(A.app, a.address)!.sequence);
  expect(seq).toBe(BigInt(account(B.app, a.address)!.sequence));
  const good = await A.send(a, b.address, 7n, { sequence: seq });
  const chk = A.app.checkTx({ tx: good, type: 'new' });
  expect(chk.code, chk.log).toBe(0);
  const ra = A.block([good]);
  const rb = B.block([good]);
  expect(ra.txResults[0]!.code, ra.txResults[0]!.log).toBe(0);
  expect(rb.txResults[0]!.code).toBe(0);
  expect(hex(A.app.appHash)).toBe(hex(B.app.appHash));
}

describe('bad inputs: registered error, no unwanted state change, the App keeps serving', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { A, B, env } = twins();
      const { a, b } = env;
      const bad = c.build(env);

      const chk = A.app.checkTx({ tx: bad, type: 'new' });
      expectRegistered(chk, c.check, 'CheckTx');

      const feeBefore = balanceOf(A.app, a.address);
      const ra = A.block([bad]);
      expect(ra.txResults).toHaveLength(1);
      expectRegistered(ra.txResults[0]!, c.deliver ?? c.check, 'FinalizeBlock');

      if (c.effect === 'none') {
        B.block([]);
        expect(account(A.app, a.address)!.sequence).toBe('0');
        expect(balanceOf(A.app, a.address)).toBe(feeBefore);
      } else {
        // The twin pays the same fee with a self-send whose only lasting effects are fee, sequence and public key.
        const twin = buildTx({ ...defaultOpts(env), messages: [msgSendAny(a.address, a.address, '1')], fee: [{ denom: 'uusdc', amount: c.fee!.toString() }] }).bytes;
        const rb = B.block([twin]);
        expect(rb.txResults[0]!.code, rb.txResults[0]!.log).toBe(0);
        expect(account(A.app, a.address)!.sequence).toBe('1');
        expect(account(A.app, a.address)!.pub_key).not.toBeNull();
        expect(balanceOf(A.app, a.address)).toBe(feeBefore - c.fee!);
        expect(balanceOf(A.app, b.address)).toBe(BALANCE); // the message was reverted
      }
      expect(stateDiff(A.app, B.app)).toEqual([]);
      expect(hex(A.app.appHash)).toBe(hex(B.app.appHash));

      await followUp(A, B, a, b);
    });
  }

  it('a block of every fee-free bad tx followed by a valid one: only the valid one changes state', async () => {
    const { A, B, env } = twins();
    const { a, b } = env;
    const bads = cases.filter((c) => c.effect === 'none' && !c.deliver).map((c) => c.build(env));
    const good = await A.send(a, b.address, 7n, { sequence: 0n });
    const ra = A.block([...bads, good]);
    const rb = B.block([good]);
    ra.txResults.slice(0, -1).forEach((r, i) => expect(r.code, `tx ${i}`).not.toBe(0));
    expect(ra.txResults.at(-1)!.code, ra.txResults.at(-1)!.log).toBe(0);
    expect(rb.txResults[0]!.code).toBe(0);
    expect(hex(A.app.appHash)).toBe(hex(B.app.appHash));
    // Same codes in a block as one by one (no tx's outcome depends on the failed ones before it).
    const alone = cases.filter((c) => c.effect === 'none' && !c.deliver).map((c) => ({ codespace: c.check.codespace, code: c.check.code }));
    expect(ra.txResults.slice(0, -1).map((r) => ({ codespace: r.codespace, code: r.code }))).toEqual(alone);
  });

  it('the high-S twin is a mathematically valid signature: only the low-S rule rejects it', () => {
    const { env } = twins();
    const t = buildTx(defaultOpts(env));
    const digest = createHash('sha256').update(t.signDocBytes).digest();
    const low = signatureOf(t.bytes);
    const high = highS(low);
    expect(secp256k1.verify(low, digest, env.a.pub)).toBe(true);
    expect(secp256k1.verify(high, digest, env.a.pub, { lowS: false })).toBe(true);
    expect(secp256k1.verify(high, digest, env.a.pub)).toBe(false); // noble's default is low-S too
  });

  it('PrepareProposal never takes a sender\'s later tx without the earlier one that did not fit (it failed in the block on its sequence)', () => {
    const { A, env } = twins();
    const big = env.tx({ messages: [1, 2, 3, 4].map(() => msgSendAny(env.a.address, env.b.address, '5')), memo: 'm'.repeat(250) }); // a, sequence 0
    const next = env.tx({ signers: [{ key: env.a, sequence: 1n }] }); // a, sequence 1 (small)
    const other = env.tx({ messages: [msgSendAny(env.b.address, env.a.address, '5')], signers: [{ key: env.b, sequence: 0n }], accountNumber: 1n, extension: { chainId: TEST_CHAIN_ID, accountNumber: 1n } });
    const room = BigInt(next.length + other.length + 10); // both small ones fit, the big one does not
    expect(BigInt(big.length)).toBeGreaterThan(room - BigInt(other.length));
    const r = A.app.prepareProposal({ maxTxBytes: room, txs: [big, next, other], localLastCommit: { round: 0, votes: [] }, height: 2n, timeNs: A.timeNs + 1n, proposerAddress: new Uint8Array(20) });
    const label = (t: Uint8Array) => (Buffer.from(t).equals(Buffer.from(big)) ? 'big' : Buffer.from(t).equals(Buffer.from(next)) ? 'next' : Buffer.from(t).equals(Buffer.from(other)) ? 'other' : `?${t.length}`);
    expect(r.txs.map(label)).toEqual(['other']);
  });

  it('PrepareProposal holds back a tx whose fee the sender\'s earlier txs in the block spend (it would take block gas and pay nothing)', async () => {
    // CheckTx charges fees but runs no message: tx1 sends the whole balance away, tx2 asks for most of the block's
    // gas with a fee the committed balance covers. In the block tx2 failed its fee (tx/16), paid nothing, and
    // its gas limit had kept everyone else out of the block.
    const c = TestChain.create({ accounts: 3, balance: 1_000_000n });
    c.block();
    const [attacker, sink, victim] = c.keys as [TestKey, TestKey, TestKey];
    const maxGas = c.app.consensusParams().block.maxGas;
    const g1 = 100_000n;
    const fee1 = (g1 * 1000n + 999_999n) / 1_000_000n;
    const tx1 = await c.send(attacker, sink.address, c.balance(attacker.address) - fee1, { gas: g1 });
    const tx2 = await c.send(attacker, sink.address, 1n, { gas: maxGas - g1 - 100_000n });
    const vtx = await c.send(victim, sink.address, 1n, { gas: 100_000n });
    for (const t of [tx1, vtx]) expect(c.app.checkTx({ tx: t, type: 'new' }).code).toBe(0);
    // CheckTx now counts tx1's pending send and refuses tx2 at entry; the proposer must still guard, for a tx
    // another node's mempool admitted before tx1 reached it
    expect(c.app.checkTx({ tx: tx2, type: 'new' })).toMatchObject({ codespace: 'bank', code: 2 });
    const prop = c.app.prepareProposal({ maxTxBytes: 1_000_000n, txs: [tx1, tx2, vtx], localLastCommit: { round: 0, votes: [] }, height: c.app.height + 1n, timeNs: c.timeNs + 1n, proposerAddress: new Uint8Array(20) });
    expect(prop.txs.map((t) => (t === tx1 ? 'tx1' : t === tx2 ? 'tx2' : t === vtx ? 'victim' : '?'))).toEqual(['tx1', 'victim']);
    const r = c.block(prop.txs);
    r.txResults.forEach((x) => expect(x.code, x.log).toBe(0));
    // after the block the recheck refuses tx2 for good
    expect(c.app.checkTx({ tx: tx2, type: 'recheck' }).code).not.toBe(0);
  });

  it('CheckTx refuses a tx that no block can hold (it would block the mempool\'s head for good)', () => {
    const { A, env } = twins();
    const huge = env.tx({ memo: 'm'.repeat(200) });
    const params = A.app.consensusParams();
    const saved = params.block.maxBytes;
    try {
      (params.block as { maxBytes: bigint }).maxBytes = BigInt(huge.length); // a block smaller than the tx's own framing
      const r = A.app.checkTx({ tx: huge, type: 'new' });
      expect({ codespace: r.codespace, code: r.code }).toEqual({ codespace: 'tx', code: 2 });
      expect(r.log).toMatch(/do not fit in a block of at most/);
    } finally {
      (params.block as { maxBytes: bigint }).maxBytes = saved;
    }
  });

  it('ProcessProposal rejects a block whose txs want more gas than the block allows', () => {
    const { A, env } = twins();
    const req = { txs: [env.tx({ gas: 300_000_000n })], proposedLastCommit: { round: 0, votes: [] }, hash: new Uint8Array(32), height: 2n, timeNs: A.timeNs + 1n, proposerAddress: new Uint8Array(20) };
    expect(A.app.processProposal(req)).toBe('reject');
    expect(A.app.processProposal({ ...req, txs: [env.tx()] })).toBe('accept');
    expect(A.app.processProposal({ ...req, txs: [Uint8Array.from([0xff, 0xff])] })).toBe('reject');
  });
});
