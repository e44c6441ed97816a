import type { MsgDef } from '../../chain/module.js';
import { addressProblem } from '../../chain/codec/address.js';
import { parseAmount } from '../../chain/codec/amount.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ErrInvalidAmount, ErrInvalidRecipient, ErrInvalidSubaccount } from './errors.js';
import { SubaccountsKeeper } from './keeper.js';

export const MSG_DEPOSIT_URL = '/perpchain.subaccounts.v1.MsgDeposit';
export const MSG_WITHDRAW_URL = '/perpchain.subaccounts.v1.MsgWithdraw';
export const MSG_TRANSFER_URL = '/perpchain.subaccounts.v1.MsgTransfer';

function positive(s: string, what: string): bigint {
  const a = parseAmount(s, what);
  if (!a.ok) throw ErrInvalidAmount(a.reason);
  if (a.value === 0n) throw ErrInvalidAmount(`${what} must be greater than zero`);
  return a.value;
}

function address(a: string, what: string, err = ErrInvalidSubaccount): void {
  const p = addressProblem(a);
  if (p) throw err(`${what}: ${p}`);
}

export function subaccountsMsgs(keeper: SubaccountsKeeper): MsgDef[] {
  const deposit: MsgDef<perpchain.subaccounts.v1.MsgDeposit> = {
    typeUrl: MSG_DEPOSIT_URL,
    type: perpchain.subaccounts.v1.MsgDeposit,
    gas: 5_000,
    signer: (m) => m.owner,
    bankOutflow: (m) => positive(m.amount, 'amount'),
    collateralFlows: (m) => [{ owner: m.owner, number: m.subaccountNumber, amount: positive(m.amount, 'amount') }],
    validateBasic(m) {
      address(m.owner, 'owner');
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.subaccountNumber });
      positive(m.amount, 'amount');
    },
    // as a send: more than the bank balance (with the owner's pending txs and earlier messages) surely fails
    precheck(ctx, m) {
      keeper.precheckDeposit(ctx.store, m.owner, positive(m.amount, 'amount'), ctx.pendingBank?.(m.owner) ?? 0n);
    },
    handle(ctx, m) {
      keeper.deposit(ctx, { owner: m.owner, number: m.subaccountNumber }, positive(m.amount, 'amount'));
    },
  };
  const withdraw: MsgDef<perpchain.subaccounts.v1.MsgWithdraw> = {
    typeUrl: MSG_WITHDRAW_URL,
    type: perpchain.subaccounts.v1.MsgWithdraw,
    gas: 10_000,
    signer: (m) => m.owner,
    collateralFlows: (m) => [{ owner: m.owner, number: m.subaccountNumber, amount: -positive(m.amount, 'amount') }],
    // no more than the subaccount holds, with the pending changes counted (other withdrawals of the same
    // collateral, a deposit earlier in the tx): a withdrawal of what is not there must not vouch for a send
    bankInflow: (m, state, change) => {
      const have = keeper.get(state, { owner: m.owner, number: m.subaccountNumber }).collateral + (change?.(m.owner, m.subaccountNumber) ?? 0n);
      const amount = positive(m.amount, 'amount');
      return { address: m.recipient || m.owner, amount: have <= 0n ? 0n : amount < have ? amount : have };
    },
    validateBasic(m) {
      address(m.owner, 'owner');
      if (m.recipient) address(m.recipient, 'recipient', ErrInvalidRecipient);
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.subaccountNumber });
      positive(m.amount, 'amount');
    },
    // CheckTx refuses only what no earlier message or tx can change: a module account as recipient. Amounts
    // and staleness are left to the block (a deposit earlier in the tx, or in a pending tx of the sender, adds
    // collateral CheckTx does not see; under vote extensions the next block's tx 0 refreshes a stale price).
    precheck(_ctx, m) {
      keeper.checkRecipient(m.recipient || m.owner);
    },
    handle(ctx, m) {
      keeper.withdraw(ctx, { owner: m.owner, number: m.subaccountNumber }, positive(m.amount, 'amount'), m.recipient || m.owner);
    },
  };
  const transfer: MsgDef<perpchain.subaccounts.v1.MsgTransfer> = {
    typeUrl: MSG_TRANSFER_URL,
    type: perpchain.subaccounts.v1.MsgTransfer,
    gas: 10_000,
    signer: (m) => m.owner,
    // the source's decrease only: nothing here says the source holds the amount, so its arrival must not
    // back a withdrawal from the destination (a deposit is checked against the bank balance; a transfer is not)
    // The arrival counts up to what the source holds, with the pending changes (as a withdrawal's inflow):
    // a transfer out of an empty subaccount must not vouch for a withdrawal, and one of real collateral
    // must (transfer into subaccount 1, withdraw it, send: the block runs it).
    collateralFlows: (m, state, change) => {
      const amount = positive(m.amount, 'amount');
      const have = keeper.get(state, { owner: m.owner, number: m.fromNumber }).collateral + change(m.owner, m.fromNumber);
      const arrives = have <= 0n ? 0n : amount < have ? amount : have;
      const out = [{ owner: m.owner, number: m.fromNumber, amount: -amount }];
      return arrives > 0n ? [...out, { owner: m.toOwner, number: m.toNumber, amount: arrives }] : out;
    },
    validateBasic(m) {
      address(m.owner, 'owner');
      address(m.toOwner, 'to_owner', ErrInvalidRecipient);
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.fromNumber });
      SubaccountsKeeper.checkId({ owner: m.toOwner, number: m.toNumber });
      if (m.owner === m.toOwner && m.fromNumber === m.toNumber) throw ErrInvalidSubaccount('cannot transfer to the same subaccount');
      positive(m.amount, 'amount');
    },
    precheck(_ctx, m) {
      keeper.checkRecipient(m.toOwner); // (as for withdrawals)
    },
    handle(ctx, m) {
      keeper.transfer(ctx, { owner: m.owner, number: m.fromNumber }, { owner: m.toOwner, number: m.toNumber }, positive(m.amount, 'amount'));
    },
  };
  return [deposit, withdraw, transfer];
}
