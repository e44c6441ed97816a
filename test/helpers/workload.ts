/**
 * A seeded generator of mixed valid and invalid transactions among a fixed
 * set of funded test keys (sends, deposits into subaccounts, withdrawals,
 * bad signatures, wrong sequences, overspends, garbage bytes, duplicates).
 *
 * It reads the signers' account numbers and sequences from a reference App's
 * committed state before each block and then tracks them through the block
 * with a small model (ante-level failures do not bump a sequence, message
 * failures do). A model error would only make more txs fail: the blocks stay
 * a deterministic function of (seed, reference App), which is all that the
 * determinism tests need.
 */
import type { App } from '../../chain/app.js';
import { TEST_CHAIN_ID } from './chain.js';
import { TestKey } from './keys.js';
import { Rng } from './rng.js';
import { buildTx, msgDepositAny, msgSendAny, signatureOf, withSignature } from './rawtx.js';
import { account } from './state.js';
import { Any } from 'cosmjs-types/google/protobuf/any';
import { perpchain } from '../../proto/gen/perpchain.js';

export type TxKind = 'send' | 'send_new' | 'deposit' | 'withdraw' | 'overspend' | 'bad_sig' | 'wrong_seq' | 'garbage' | 'duplicate';

export interface WorkloadOptions {
  keys: readonly TestKey[];
  seed: number;
  chainId?: string;
  /** Probability weights of each kind (defaults below). */
  weights?: Partial<Record<TxKind, number>>;
}

const DEFAULT_WEIGHTS: Record<TxKind, number> = {
  send: 50,
  send_new: 6,
  deposit: 10,
  withdraw: 4,
  overspend: 5,
  bad_sig: 7,
  wrong_seq: 7,
  garbage: 5,
  duplicate: 6,
};

export function msgWithdrawAny(owner: string, subaccountNumber: number, amount: string, recipient = ''): Any {
  return Any.fromPartial({
    typeUrl: '/perpchain.subaccounts.v1.MsgWithdraw',
    value: perpchain.subaccounts.v1.MsgWithdraw.encode({ owner, subaccountNumber, amount, recipient }).finish(),
  });
}

export class Workload {
  readonly rng: Rng;
  private readonly weights: Array<[TxKind, number]>;
  private readonly total: number;
  private fresh = 0;
  readonly kinds: TxKind[] = [];

  constructor(private readonly o: WorkloadOptions) {
    this.rng = new Rng(o.seed);
    this.weights = Object.entries({ ...DEFAULT_WEIGHTS, ...(o.weights ?? {}) }) as Array<[TxKind, number]>;
    this.total = this.weights.reduce((s, [, w]) => s + w, 0);
  }

  private kind(): TxKind {
    let x = this.rng.float() * this.total;
    for (const [k, w] of this.weights) {
      if (x < w) return k;
      x -= w;
    }
    return 'send';
  }

  /** The txs of the next block, reading sequences and account numbers from `ref`'s committed state. */
  block(ref: App, count: number): Uint8Array[] {
    const rng = this.rng;
    const keys = this.o.keys;
    const chainId = this.o.chainId ?? TEST_CHAIN_ID;
    const seq = new Map<string, bigint>();
    const num = new Map<string, bigint>();
    for (const k of keys) {
      const a = account(ref, k.address);
      seq.set(k.address, a ? BigInt(a.sequence) : 0n);
      num.set(k.address, a ? BigInt(a.account_number) : BigInt(keys.indexOf(k)));
    }
    const txs: Uint8Array[] = [];
    const sign = (from: TestKey, messages: Any[], sequence: bigint) =>
      buildTx({ messages, signers: [{ key: from, sequence }], chainId, accountNumber: num.get(from.address)!, extension: rng.chance(0.5) ? { chainId, accountNumber: num.get(from.address)! } : undefined }).bytes;
    for (let i = 0; i < count; i++) {
      const kind = this.kind();
      this.kinds.push(kind);
      const from = rng.pick(keys);
      const s = seq.get(from.address)!;
      const to = rng.pick(keys);
      const amount = BigInt(rng.range(1, 1_000_000));
      switch (kind) {
        case 'send':
          txs.push(sign(from, [msgSendAny(from.address, to.address, amount.toString())], s));
          seq.set(from.address, s + 1n);
          break;
        case 'send_new':
          txs.push(sign(from, [msgSendAny(from.address, new TestKey(`fresh-${this.o.seed}-${this.fresh++}`).address, amount.toString())], s));
          seq.set(from.address, s + 1n);
          break;
        case 'deposit':
          txs.push(sign(from, [msgDepositAny(from.address, rng.int(4), amount.toString())], s));
          seq.set(from.address, s + 1n);
          break;
        case 'withdraw':
          // May fail for want of collateral (a message failure: the sequence still moves).
          txs.push(sign(from, [msgWithdrawAny(from.address, rng.int(4), BigInt(rng.range(1, 300_000)).toString(), rng.chance(0.3) ? to.address : '')], s));
          seq.set(from.address, s + 1n);
          break;
        case 'overspend':
          txs.push(sign(from, [msgSendAny(from.address, to.address, (10n ** 18n).toString())], s));
          seq.set(from.address, s + 1n);
          break;
        case 'bad_sig': {
          const t = sign(from, [msgSendAny(from.address, to.address, amount.toString())], s);
          const sig = Uint8Array.from(signatureOf(t));
          const at = rng.int(64);
          sig[at] = sig[at]! ^ (1 << rng.int(8));
          txs.push(withSignature(t, sig));
          break;
        }
        case 'wrong_seq': {
          const wrong = s > 0n && rng.chance(0.5) ? s - 1n : s + BigInt(rng.range(1, 3));
          txs.push(sign(from, [msgSendAny(from.address, to.address, amount.toString())], wrong));
          break;
        }
        case 'garbage':
          txs.push(rng.bytes(rng.range(0, 300)));
          break;
        case 'duplicate':
          txs.push(txs.length ? rng.pick(txs) : rng.bytes(10));
          break;
      }
    }
    return txs;
  }
}
