/**
 * auth: accounts, account numbers, public keys and sequences. The ante
 * handler (chain/tx/ante.ts) is its main consumer. See README.md.
 */
import { queryAddress } from '../../chain/errors/query.js';
import type { AppModule } from '../../chain/module.js';
import type { KVReader } from '../../chain/store/kv.js';
import { ACCOUNT_TABLE } from './keys.js';
import { AuthKeeper, decodeAccount, type Account } from './keeper.js';
import { defaultAuthGenesis, paramsToJson, parseAuthGenesis } from './genesis.js';
import { authInvariants } from './invariants.js';
import { ErrAccountNotFound } from './errors.js';

export { AuthKeeper, type Account } from './keeper.js';
export { type AuthParams, DEFAULT_AUTH_PARAMS } from './params.js';
export { ErrAccountNotFound, ErrInvalidGenesis as ErrInvalidAuthGenesis } from './errors.js';

export function accountJson(a: Account) {
  return {
    address: a.address,
    pub_key: a.pubKey ? Buffer.from(a.pubKey).toString('base64') : null,
    account_number: a.accountNumber.toString(),
    sequence: a.sequence.toString(),
  };
}

export function createAuthModule(keeper = new AuthKeeper()): AppModule & { keeper: AuthKeeper } {
  return {
    name: 'auth',
    keeper,
    defaultGenesis: defaultAuthGenesis,
    initGenesis(ctx, json) {
      const g = parseAuthGenesis(json);
      keeper.setParams(ctx.store, g.params);
      let next = 0n;
      for (const a of g.accounts) {
        keeper.setAccount(ctx.store, a);
        if (a.accountNumber >= next) next = a.accountNumber + 1n;
      }
      keeper.setNextAccountNumber(ctx.store, next);
    },
    exportGenesis(state: KVReader) {
      return {
        params: paramsToJson(keeper.getParams(state)),
        accounts: state.scanTable(ACCOUNT_TABLE).map(([, v]) => {
          const j = accountJson(decodeAccount(v));
          return { address: j.address, ...(j.pub_key ? { pub_key: j.pub_key } : {}), account_number: j.account_number, sequence: j.sequence };
        }),
      };
    },
    queries: {
      account(state, [address]) {
        const a = keeper.getAccount(state, queryAddress(address));
        if (!a) throw ErrAccountNotFound(`no account at ${address ?? '(empty address)'}`);
        return accountJson(a);
      },
      params(state) {
        return paramsToJson(keeper.getParams(state));
      },
    },
    invariants: authInvariants(keeper),
  };
}
