import type { MsgDef } from '../../chain/module.js';
import { addressProblem } from '../../chain/codec/address.js';
import { parseAmount } from '../../chain/codec/amount.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ErrInsufficientCollateral, ErrInvalidAmount, ErrInvalidRecipient, ErrInvalidSubaccount } from './errors.js';
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

/**
 * CheckTx's read-only refusal of a withdrawal or transfer that surely fails: a module account as
 * recipient, a stale price in a held market, or more than an account without positions holds.
 */
function precheckOutflow(keeper: SubaccountsKeeper, ctx: Parameters<NonNullable<MsgDef['precheck']>>[0], id: { owner: string; number: number }, recipient: string, amount: bigint): void {
  keeper.checkOutflow(ctx.store, id, recipient, ctx.timeSec);
  const sub = keeper.get(ctx.store, id);
  if (sub.positions.length === 0 && sub.collateral < amount) throw ErrInsufficientCollateral(`subaccount ${id.owner}/${id.number} holds ${sub.collateral} uusdc, less than ${amount}`);
}

export function subaccountsMsgs(keeper: SubaccountsKeeper): MsgDef[] {
  const deposit: MsgDef<perpchain.subaccounts.v1.MsgDeposit> = {
    typeUrl: MSG_DEPOSIT_URL,
    type: perpchain.subaccounts.v1.MsgDeposit,
    gas: 5_000,
    signer: (m) => m.owner,
    validateBasic(m) {
      address(m.owner, 'owner');
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.subaccountNumber });
      positive(m.amount, 'amount');
    },
    precheck(ctx, m) {
      const have = keeper.bankBalance(ctx.store, m.owner);
      const amount = positive(m.amount, 'amount');
      if (have < amount) throw ErrInsufficientCollateral(`${m.owner} has ${have} uusdc in the bank, less than the ${amount} to deposit`);
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
    validateBasic(m) {
      address(m.owner, 'owner');
      if (m.recipient) address(m.recipient, 'recipient', ErrInvalidRecipient);
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.subaccountNumber });
      positive(m.amount, 'amount');
    },
    precheck(ctx, m) {
      precheckOutflow(keeper, ctx, { owner: m.owner, number: m.subaccountNumber }, m.recipient || m.owner, positive(m.amount, 'amount'));
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
    validateBasic(m) {
      address(m.owner, 'owner');
      address(m.toOwner, 'to_owner', ErrInvalidRecipient);
      SubaccountsKeeper.checkId({ owner: m.owner, number: m.fromNumber });
      SubaccountsKeeper.checkId({ owner: m.toOwner, number: m.toNumber });
      if (m.owner === m.toOwner && m.fromNumber === m.toNumber) throw ErrInvalidSubaccount('cannot transfer to the same subaccount');
      positive(m.amount, 'amount');
    },
    precheck(ctx, m) {
      precheckOutflow(keeper, ctx, { owner: m.owner, number: m.fromNumber }, m.toOwner, positive(m.amount, 'amount'));
    },
    handle(ctx, m) {
      keeper.transfer(ctx, { owner: m.owner, number: m.fromNumber }, { owner: m.toOwner, number: m.toNumber }, positive(m.amount, 'amount'));
    },
  };
  return [deposit, withdraw, transfer];
}
