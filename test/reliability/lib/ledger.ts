/**
 * Whole-chain checks on top of the modules' own invariants (App.runInvariants):
 *
 *   uusdc ledger   supply = Σ user bank balances + Σ subaccount claims
 *                  (collateral + funding carry + unsettled funding, exact to
 *                  10⁻¹⁸) + funding dust + insurance fund + fees collected
 *                  − recorded bad debt
 *                  — conservation across bank, subaccounts, insurance fund,
 *                  fees and bad debt in one equation;
 *   signs          no bank balance ≤ 0 is stored; insurance fund, fee
 *                  collector and every market's bad debt ≥ 0; funding dust in
 *                  [0, 10¹⁸); a subaccount without positions has collateral
 *                  ≥ 0 (one left negative must have been written off);
 *   orders         every open order has 0 ≤ filled < quantity (also in the
 *                  clob module's invariant, repeated here against the store).
 *
 * They read only committed state through the keepers' read methods, so they
 * run on any App (and on a pending block's state).
 */
import type { App } from '../../../chain/app.js';
import { decodeInt } from '../../../chain/codec/amount.js';
import { moduleAddress } from '../../../chain/codec/address.js';
import type { Invariant } from '../../../chain/module.js';
import type { KVReader } from '../../../chain/store/kv.js';
import { SUBACCOUNT_TABLE, decodeSubaccount, FUNDING_SCALE } from '../../../modules/subaccounts/index.js';
import { BALANCE_TABLE } from '../../../modules/bank/keys.js';
import { BAD_DEBT_TABLE } from '../../../modules/subaccounts/keys.js';
import { ORDER_TABLE } from '../../../modules/clob/keys.js';
import { perpchain } from '../../../proto/gen/perpchain.js';

const POOL = moduleAddress('subaccounts');
const INSURANCE = moduleAddress('insurance_fund');
const FEES = moduleAddress('fee_collector');

export function ledgerInvariants(app: App): Invariant[] {
  const k = app.keepers;
  return [
    {
      name: 'reliability/uusdc-ledger',
      check(state: KVReader): string[] {
        const broken: string[] = [];
        let users = 0n;
        let pool = 0n;
        let insurance = 0n;
        let fees = 0n;
        for (const [key, v] of state.scanTable(BALANCE_TABLE)) {
          const addr = key.slice(BALANCE_TABLE.length);
          const b = decodeInt(v);
          if (b <= 0n) broken.push(`bank balance of ${addr} is ${b} (a stored balance is > 0)`);
          if (addr === POOL) pool = b;
          else if (addr === INSURANCE) insurance = b;
          else if (addr === FEES) fees = b;
          else users += b;
        }
        let claims = 0n; // 10^-18 uusdc
        for (const [key, v] of state.scanTable(SUBACCOUNT_TABLE)) {
          const s = decodeSubaccount(v);
          claims += s.collateral * FUNDING_SCALE;
          for (const p of s.positions) claims += p.fundingCarry - p.size * (k.perpetuals.fundingIndex(state, p.marketId) - p.fundingIndex);
          if (s.positions.length === 0 && s.collateral < 0n) broken.push(`${key}: no positions but collateral ${s.collateral} < 0 (not written off as bad debt)`);
        }
        const dust = k.subaccounts.dust(state);
        if (dust < 0n || dust >= FUNDING_SCALE) broken.push(`funding dust ${dust} outside [0, 10^18)`);
        let bad = 0n;
        for (const [key, v] of state.scanTable(BAD_DEBT_TABLE)) {
          const d = decodeInt(v);
          if (d < 0n) broken.push(`${key}: bad debt ${d} < 0`);
          bad += d;
        }
        const supply = k.bank.supply(state);
        const rhs = users * FUNDING_SCALE + claims + dust + (insurance + fees - bad) * FUNDING_SCALE;
        if (supply * FUNDING_SCALE !== rhs) {
          broken.push(
            `uusdc not conserved: supply ${supply} ≠ users ${users} + subaccount claims ${claims}e-18 + dust ${dust}e-18 + insurance ${insurance} + fees ${fees} − bad debt ${bad} (difference ${supply * FUNDING_SCALE - rhs}e-18)`,
          );
        }
        if (pool < 0n) broken.push(`pool ${pool} < 0`);
        return broken;
      },
    },
    {
      name: 'reliability/open-orders',
      check(state: KVReader): string[] {
        const broken: string[] = [];
        for (const [key, v] of state.scanTable(ORDER_TABLE)) {
          const o = perpchain.clob.v1.Order.decode(v);
          const q = BigInt(o.quantity.toString());
          const f = BigInt(o.filled.toString());
          if (q <= 0n || f < 0n || f >= q) broken.push(`${key}: filled ${f} of ${q}`);
        }
        return broken;
      },
    },
  ];
}

/** Every module invariant plus the ledger ones, on the App's committed state. */
export function allInvariantProblems(app: App, state: KVReader = app.state): string[] {
  const out: string[] = [];
  for (const b of app.runInvariants(state)) for (const p of b.problems) out.push(`${b.invariant}: ${p}`);
  for (const inv of ledgerInvariants(app)) for (const p of inv.check(state)) out.push(`${inv.name}: ${p}`);
  return out;
}

/** Names of every invariant checked by allInvariantProblems. */
export function invariantNames(app: App): string[] {
  return [...app.invariants.map((i) => i.name), ...ledgerInvariants(app).map((i) => i.name)];
}
