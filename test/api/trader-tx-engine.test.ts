/**
 * The Trader's tx engine (client/trader.ts execute/submit/submitBytes) against a scripted node: the answers
 * a single devnet node rarely gives but a real network does — a tx that passed CheckTx and then failed in
 * its block on a sequence another tx took first, a tx dropped from the mempool, a resubmission whose first
 * copy already landed (CheckTx: "expected X+1"), "already in the mempool", a node that never answers.
 * The scripted node records the sequence of every tx it is sent, so a second signing is visible.
 */
import { describe, expect, it } from 'vitest';
import { AuthInfo, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { RequestTimeoutError, Trader, TxError, type PerpchainClient, type TxInclusion } from '../../client/index.js';
import { TestKey } from '../helpers/keys.js';

const key = new TestKey('tx-engine');

type CheckTx = { code: number; codespace: string; log: string };
interface Answer {
  checkTx?: CheckTx;
  inclusion?: TxInclusion;
  /** the node does not answer this submission */
  timeout?: boolean;
}

const ok: CheckTx = { code: 0, codespace: '', log: '' };
const included = (hash: string, over: Partial<{ code: number; codespace: string; log: string }> = {}): TxInclusion => ({ hash, status: 'included', height: 9, data: '', code: 0, codespace: '', log: '', gas_wanted: '0', gas_used: '0', events: [], ...over });

/**
 * A node that answers the n-th submission with answers[n] (the last one repeats), reports the account at
 * `chain.sequence`, and answers `tx` lookups from `known`.
 */
function scriptedNode(answers: Array<(hash: string) => Answer>, chain: { sequence: bigint }, known = new Map<string, TxInclusion>()) {
  const signed: bigint[] = [];
  const hashes: string[] = [];
  const client = {
    account: async () => ({ account_number: '3', sequence: chain.sequence.toString() }),
    chainIdReady: async () => 'perpchain-scripted-1',
    submitTx: async (bytes: Uint8Array) => {
      const raw = TxRaw.decode(bytes);
      signed.push(BigInt(AuthInfo.decode(raw.authInfoBytes).signerInfos[0]!.sequence.toString()));
      const hash = Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex').toUpperCase();
      hashes.push(hash);
      const a = answers[Math.min(signed.length - 1, answers.length - 1)]!(hash);
      if (a.timeout) throw new RequestTimeoutError('submit_tx', 1);
      return { hash, checkTx: a.checkTx ?? ok, inclusion: Promise.resolve(a.inclusion ?? included(hash)) };
    },
    conn: {
      request: async (_method: string, p: { hash: string }) => known.get(p.hash) ?? { hash: p.hash, status: 'unknown' },
      whenOpen: async () => {},
    },
  };
  return { client: client as unknown as PerpchainClient, signed, hashes };
}

const trader = (client: PerpchainClient) => Trader.create({ client, signer: key, gasPriceMicro: 1000n });

describe('Trader tx engine', () => {
  it('a tx that fails in its block on a taken sequence is re-signed with the chain\'s sequence and lands', async () => {
    const chain = { sequence: 4n };
    const node = scriptedNode(
      [
        (h) => {
          chain.sequence = 5n; // another tx of this account took 4 in the block
          return { inclusion: included(h, { code: 12, codespace: 'tx', log: 'account sequence mismatch, expected 5, got 4' }) };
        },
        (h) => ({ inclusion: included(h) }),
      ],
      chain,
    );
    const tr = await trader(node.client);
    const inc = await tr.deposit('1');
    expect(node.signed).toEqual([4n, 5n]);
    expect(inc.hash).toBe(node.hashes[1]);
    expect(tr.sequence.mismatches).toBe(1);
  });

  it('a tx dropped from the mempool is signed again, up to three more times, then reported as dropped', async () => {
    const chain = { sequence: 2n };
    const dropped = (h: string): Answer => ({ inclusion: { hash: h, status: 'dropped', reason: 'evicted on recheck' } });
    const once = scriptedNode([dropped, (h) => ({ inclusion: included(h) })], chain);
    await (await trader(once.client)).deposit('1');
    expect(once.signed.length).toBe(2);

    const always = scriptedNode([dropped], chain);
    const e = await (await trader(always.client)).deposit('1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TxError);
    expect((e as TxError).stage).toBe('dropped');
    expect(always.signed.length).toBe(4);
  });

  it('CheckTx saying "expected 8, got 7" for a tx that already landed returns that inclusion: nothing is signed again', async () => {
    const chain = { sequence: 7n };
    const known = new Map<string, TxInclusion>();
    const node = scriptedNode(
      [
        (h) => {
          known.set(h, included(h)); // its first copy (an answer lost on the way) is in a block already
          return { checkTx: { code: 12, codespace: 'tx', log: 'account sequence mismatch, expected 8, got 7' } };
        },
      ],
      chain,
      known,
    );
    const tr = await trader(node.client);
    const inc = await tr.deposit('1');
    expect(node.signed).toEqual([7n]);
    expect(inc.hash).toBe(node.hashes[0]);
    expect(tr.sequence.next).toBe(8n);
  });

  it('CheckTx saying "already in the mempool" counts as accepted: the sequence moves on', async () => {
    const chain = { sequence: 1n };
    const node = scriptedNode([(h) => ({ checkTx: { code: 26, codespace: 'tx', log: `tx ${h} is already in the mempool` } })], chain);
    const tr = await trader(node.client);
    await tr.deposit('1');
    expect(node.signed).toEqual([1n]);
    expect(tr.sequence.next).toBe(2n);
  });

  it('an unanswered submission is sent again (the same bytes) up to 8 more times, then fails with its hash', async () => {
    const chain = { sequence: 0n };
    const twice = scriptedNode([() => ({ timeout: true }), () => ({ timeout: true }), (h) => ({ inclusion: included(h) })], chain);
    await (await trader(twice.client)).deposit('1');
    expect(new Set(twice.hashes).size).toBe(1); // resubmitted, not signed again
    expect(twice.hashes.length).toBe(3);

    const never = scriptedNode([() => ({ timeout: true })], chain);
    const e = await (await trader(never.client)).deposit('1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RequestTimeoutError);
    expect(never.hashes.length).toBe(9);
    expect((e as RequestTimeoutError).txHash).toBe(never.hashes[0]);
  });
});
