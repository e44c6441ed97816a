/** Read-side helpers for tests: committed state dumps, accounts, hex. */
import type { App } from '../../chain/app.js';
import { CommittedState } from '../../chain/store/committed.js';
import type { ExecTxResult } from '../../chain/types.js';

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** Every committed (key, value-hex) pair of an App, in key order. */
export function stateEntries(app: App): Array<[string, string]> {
  const s = app.state;
  if (!(s instanceof CommittedState)) throw new Error('App.state is not a CommittedState');
  return [...s.entries()].map(([k, v]) => [k, hex(v)]);
}

/** Keys whose values differ between two Apps' committed states (present in one only, or different values). */
export function stateDiff(a: App, b: App): string[] {
  const ma = new Map(stateEntries(a));
  const mb = new Map(stateEntries(b));
  const out: string[] = [];
  for (const k of new Set([...ma.keys(), ...mb.keys()])) if (ma.get(k) !== mb.get(k)) out.push(k);
  return out.sort();
}

export interface AccountJson {
  address: string;
  pub_key: string | null;
  account_number: string;
  sequence: string;
}

export function account(app: App, address: string): AccountJson | undefined {
  const r = app.query({ path: `auth/account/${address}`, data: new Uint8Array(), height: 0n, prove: false });
  return r.code === 0 ? (JSON.parse(Buffer.from(r.value).toString()) as AccountJson) : undefined;
}

export function balanceOf(app: App, address: string): bigint {
  const r = app.query({ path: `bank/balance/${address}`, data: new Uint8Array(), height: 0n, prove: false });
  if (r.code !== 0) throw new Error(`balance query: ${r.log}`);
  return BigInt((JSON.parse(Buffer.from(r.value).toString()) as { amount: string }).amount);
}

/** The consensus-relevant part of a tx result plus the log (which must be deterministic too). */
export function resultKey(r: ExecTxResult): string {
  return `${r.code}/${r.codespace}/${r.gasWanted}/${r.gasUsed}/${hex(r.data)}/${r.log}`;
}
