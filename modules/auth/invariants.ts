import type { Invariant } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { ACCOUNT_TABLE } from './keys.js';
import { decodeAccount, type AuthKeeper } from './keeper.js';

/** Account numbers are unique and below the next free number; each record sits at its own address. */
export function authInvariants(keeper: AuthKeeper): Invariant[] {
  return [
    {
      name: 'auth/account-numbers',
      check(state: KVReader): string[] {
        const broken: string[] = [];
        const next = keeper.nextAccountNumber(state);
        const seen = new Set<bigint>();
        for (const [key, value] of state.scanTable(ACCOUNT_TABLE)) {
          const a = decodeAccount(value);
          if (key !== ACCOUNT_TABLE + a.address) broken.push(`account ${a.address} stored under ${key}`);
          if (a.accountNumber >= next) broken.push(`account ${a.address} has number ${a.accountNumber} ≥ next ${next}`);
          if (seen.has(a.accountNumber)) broken.push(`account number ${a.accountNumber} used twice`);
          seen.add(a.accountNumber);
        }
        return broken;
      },
    },
  ];
}
