import type { EncodeObject } from '@cosmjs/proto-signing';
import { App, type AppOptions } from '../../chain/app.js';
import type { ExecTxResult, FinalizeBlockResult } from '../../chain/types.js';
import { signTx, feeFor } from '../../client/signing.js';
import { TestKey, testKeys } from './keys.js';

export const TEST_CHAIN_ID = 'perpchain-test-1';
/** 2026-01-01T00:00:00Z in ns; blocks advance one second each unless told otherwise. */
export const GENESIS_TIME_NS = 1_767_225_600_000_000_000n;
export const DEFAULT_GAS = 200_000n;

export interface TestChainOptions extends AppOptions {
  accounts?: number;
  balance?: bigint;
  /** Extra genesis app_state (merged over the generated auth/bank sections). */
  appState?: Record<string, unknown>;
  keys?: TestKey[];
}

/** Genesis app_state funding each key with `balance` uusdc. */
export function genesisFor(keys: readonly TestKey[], balance: bigint, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    bank: { balances: keys.map((k) => ({ address: k.address, amount: balance.toString() })) },
    ...extra,
  };
}

/**
 * An App plus funded test keys, with helpers to sign and run blocks. Tracks
 * each key's account number and next sequence locally (like a client would).
 */
export class TestChain {
  readonly keys: TestKey[];
  private readonly seq = new Map<string, bigint>();
  timeNs = GENESIS_TIME_NS;

  private constructor(
    public app: App,
    keys: TestKey[],
    readonly appState: Record<string, unknown>,
  ) {
    this.keys = keys;
  }

  static create(o: TestChainOptions = {}): TestChain {
    const keys = o.keys ?? testKeys(o.accounts ?? 4);
    const appState = genesisFor(keys, o.balance ?? 1_000_000_000_000n, o.appState);
    const app = App.open(o);
    const chain = new TestChain(app, keys, appState);
    if (app.height === 0n) {
      app.initChain({ chainId: TEST_CHAIN_ID, timeNs: GENESIS_TIME_NS, initialHeight: 1n, appStateBytes: Buffer.from(JSON.stringify(appState)) });
    }
    return chain;
  }

  /** Replace the App (e.g. after reopening from disk); local sequences are kept. */
  reopen(app: App): void {
    this.app = app;
  }

  accountNumber(address: string): bigint {
    const r = this.app.query({ path: `auth/account/${address}`, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) {
      // Accounts created in genesis but not yet committed (before block 1).
      return BigInt(this.keys.findIndex((k) => k.address === address));
    }
    return BigInt(JSON.parse(Buffer.from(r.value).toString()).account_number);
  }

  nextSequence(address: string): bigint {
    return this.seq.get(address) ?? 0n;
  }

  setSequence(address: string, s: bigint): void {
    this.seq.set(address, s);
  }

  async sign(key: TestKey, messages: EncodeObject[], o: { gas?: bigint; fee?: bigint; sequence?: bigint; accountNumber?: bigint; chainId?: string; memo?: string; extension?: boolean } = {}): Promise<Uint8Array> {
    const gas = o.gas ?? DEFAULT_GAS;
    const sequence = o.sequence ?? this.nextSequence(key.address);
    if (o.sequence === undefined) this.seq.set(key.address, sequence + 1n);
    return signTx({
      signer: key,
      signerAddress: key.address,
      messages,
      fee: o.fee !== undefined ? { amount: o.fee, gas } : feeFor(gas, 1000n),
      chainId: o.chainId ?? TEST_CHAIN_ID,
      accountNumber: o.accountNumber ?? this.accountNumber(key.address),
      sequence,
      memo: o.memo ?? '',
      extension: o.extension ?? true,
    });
  }

  send(from: TestKey, to: string, amount: bigint, o: Parameters<TestChain['sign']>[2] = {}): Promise<Uint8Array> {
    return this.sign(from, [{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: from.address, toAddress: to, amount: amount.toString() } }], o);
  }

  /** FinalizeBlock + Commit with the next block time. */
  block(txs: Uint8Array[] = [], dtNs = 1_000_000_000n): FinalizeBlockResult {
    this.timeNs += dtNs;
    const height = this.app.height === 0n ? 1n : this.app.height + 1n;
    const r = this.app.finalizeBlock({ txs, height, timeNs: this.timeNs, hash: new Uint8Array(32), proposerAddress: new Uint8Array(20) });
    this.app.commit();
    this.resyncSequences();
    return r;
  }

  /** Set every tracked signer's next sequence to the committed one (txs that failed the ante did not use theirs). */
  resyncSequences(): void {
    for (const address of this.seq.keys()) {
      const r = this.app.query({ path: `auth/account/${address}`, data: new Uint8Array(), height: 0n, prove: false });
      if (r.code === 0) this.seq.set(address, BigInt(JSON.parse(Buffer.from(r.value).toString()).sequence));
    }
  }

  balance(address: string): bigint {
    const r = this.app.query({ path: `bank/balance/${address}`, data: new Uint8Array(), height: 0n, prove: false });
    return BigInt(JSON.parse(Buffer.from(r.value).toString()).amount);
  }

  queryJson<T = any>(path: string): T {
    const r = this.app.query({ path, data: new Uint8Array(), height: 0n, prove: false });
    if (r.code !== 0) throw new Error(`query ${path}: ${r.codespace}/${r.code} ${r.log}`);
    return JSON.parse(Buffer.from(r.value).toString()) as T;
  }
}

export function expectOk(r: ExecTxResult): ExecTxResult {
  if (r.code !== 0) throw new Error(`tx failed: ${r.codespace}/${r.code} ${r.log}`);
  return r;
}
