import { describe, expect, it } from 'vitest';
import { BankKeeper } from '../../modules/bank/keeper.js';
import { AuthKeeper } from '../../modules/auth/keeper.js';
import { Branch } from '../../chain/store/branch.js';
import { EventSink } from '../../chain/context.js';
import { ChainError } from '../../chain/errors/index.js';
import { testKeys, type TestKey } from '../helpers/keys.js';

/**
 * The bank and auth keepers' own contracts, below the messages. Every caller in the tree guards its
 * amounts before calling send/mint (the fee only when > 0, trades and dust only when > 0, genesis skips
 * zero balances), so the keepers' "amount must be positive" checks are the last line: a future caller that
 * forgot its guard would otherwise create a recipient account, emit a transfer of 0 and (for mint) write
 * supply for nothing. These run the keepers on an in-memory store, no App.
 */
const [alice, bob] = testKeys(2, 'bank-auth-keepers') as [TestKey, TestKey];
const EMPTY = { get: () => undefined, scanTable: () => [] };

function fresh(): { ctx: { store: Branch; events: EventSink }; auth: AuthKeeper; bank: BankKeeper } {
  const auth = new AuthKeeper();
  return { ctx: { store: new Branch(EMPTY), events: new EventSink() }, auth, bank: new BankKeeper(auth) };
}

/** The registered code of what `fn` throws ("bank/4"), or "ok". */
function codeOf(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof ChainError) return `${e.codespace}/${e.code}`;
    throw e;
  }
}

describe('BankKeeper amounts', () => {
  it('send refuses an amount of 0 (bank/4) and writes nothing: no recipient account, no event', () => {
    const { ctx, auth, bank } = fresh();
    bank.mint(ctx, alice.address, 100n);
    const writes = ctx.store.writes.size;
    const events = ctx.events.events.length;
    expect(codeOf(() => bank.send(ctx, alice.address, bob.address, 0n))).toBe('bank/4');
    expect(auth.hasAccount(ctx.store, bob.address)).toBe(false);
    expect(ctx.store.writes.size).toBe(writes);
    expect(ctx.events.events.length).toBe(events);
    // the smallest positive amount is a transfer
    expect(codeOf(() => bank.send(ctx, alice.address, bob.address, 1n))).toBe('ok');
    expect([bank.balance(ctx.store, alice.address), bank.balance(ctx.store, bob.address)]).toEqual([99n, 1n]);
  });

  it('mint refuses an amount of 0 (bank/4): no account is created and the supply is not written', () => {
    const { ctx, auth, bank } = fresh();
    expect(codeOf(() => bank.mint(ctx, alice.address, 0n))).toBe('bank/4');
    expect(auth.hasAccount(ctx.store, alice.address)).toBe(false);
    expect(ctx.store.writes.size).toBe(0);
    expect(codeOf(() => bank.mint(ctx, alice.address, 1n))).toBe('ok');
    expect(bank.supply(ctx.store)).toBe(1n);
  });
});

describe('AuthKeeper accounts', () => {
  it('ensureAccount numbers accounts 0, 1, … in order of first receipt, once each, and says so in an event', () => {
    const { ctx, auth } = fresh();
    const a = auth.ensureAccount(ctx, alice.address);
    const b = auth.ensureAccount(ctx, bob.address);
    expect(auth.ensureAccount(ctx, alice.address)).toBeUndefined(); // exists: untouched
    expect([a?.accountNumber, b?.accountNumber, auth.nextAccountNumber(ctx.store)]).toEqual([0n, 1n, 2n]);
    // a new account has no key yet (the first tx must carry it) and starts at sequence 0
    expect(auth.getAccount(ctx.store, alice.address)).toEqual({ address: alice.address, pubKey: undefined, accountNumber: 0n, sequence: 0n });
    expect(ctx.events.events.map((e) => [e.type, ...e.attributes.map((x) => `${x.key}=${x.value}`)])).toEqual([
      ['auth.account_created', `address=${alice.address}`, 'account_number=0'],
      ['auth.account_created', `address=${bob.address}`, 'account_number=1'],
    ]);
  });
});
