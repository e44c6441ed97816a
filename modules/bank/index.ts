/**
 * bank: uusdc balances, total supply and MsgSend. See README.md.
 */
import { queryAddress } from '../../chain/errors/query.js';
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { decodeInt } from '../../chain/codec/amount.js';
import { BankKeeper } from './keeper.js';
import { bankMsgs } from './msgs.js';
import { parseBankGenesis } from './genesis.js';
import { BALANCE_TABLE, DENOM } from './keys.js';
import type { AccountKeeper } from './expected-keepers.js';

export { BankKeeper, type BankParams } from './keeper.js';
export { MSG_SEND_URL } from './msgs.js';
export { DENOM } from './keys.js';
export * as bankErrors from './errors.js';

/** Σ balances (O(accounts): invariants and tests, never the hot path). */
export function sumBalances(state: KVReader): bigint {
  let total = 0n;
  for (const [, v] of state.scanTable(BALANCE_TABLE)) total += decodeInt(v);
  return total;
}

export function createBankModule(accounts: AccountKeeper): AppModule & { keeper: BankKeeper } {
  const keeper = new BankKeeper(accounts);
  return {
    name: 'bank',
    keeper,
    msgs: bankMsgs(keeper),
    defaultGenesis: () => ({ params: { send_enabled: true }, balances: [] }),
    initGenesis(ctx, json) {
      const g = parseBankGenesis(json);
      keeper.setParams(ctx.store, g.params);
      for (const b of g.balances) if (b.amount > 0n) keeper.mint(ctx, b.address, b.amount);
    },
    exportGenesis(state: KVReader) {
      return {
        params: { send_enabled: keeper.getParams(state).sendEnabled },
        balances: state.scanTable(BALANCE_TABLE).map(([k, v]) => ({ address: k.slice(BALANCE_TABLE.length), amount: decodeInt(v).toString() })),
        supply: keeper.supply(state).toString(),
      };
    },
    queries: {
      balance(state, [address]) {
        return { address: queryAddress(address), denom: DENOM, amount: keeper.balance(state, address!).toString() };
      },
      supply(state) {
        return { denom: DENOM, amount: keeper.supply(state).toString() };
      },
    },
    invariants: [
      {
        name: 'bank/supply',
        check(state) {
          const broken: string[] = [];
          let total = 0n;
          for (const [k, v] of state.scanTable(BALANCE_TABLE)) {
            const b = decodeInt(v);
            if (b <= 0n) broken.push(`${k} holds ${b} (balances are positive or absent)`);
            total += b;
          }
          const supply = keeper.supply(state);
          if (total !== supply) broken.push(`Σ balances ${total} ≠ supply ${supply}`);
          return broken;
        },
      },
    ],
  };
}
