import type { MsgDef } from '../../chain/module.js';
import { addressProblem } from '../../chain/codec/address.js';
import { parseAmount } from '../../chain/codec/amount.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { ErrBlockedRecipient, ErrInvalidAddress, ErrInvalidAmount, ErrSendDisabled } from './errors.js';
import type { BankKeeper } from './keeper.js';

type MsgSend = perpchain.bank.v1.MsgSend;

export const MSG_SEND_URL = '/perpchain.bank.v1.MsgSend';

function amountOf(msg: MsgSend): bigint {
  const a = parseAmount(msg.amount);
  if (!a.ok) throw ErrInvalidAmount(a.reason);
  if (a.value === 0n) throw ErrInvalidAmount('amount must be greater than zero');
  return a.value;
}

export function bankMsgs(bank: BankKeeper): MsgDef[] {
  const send: MsgDef<MsgSend> = {
    typeUrl: MSG_SEND_URL,
    type: perpchain.bank.v1.MsgSend,
    gas: 1000,
    signer: (m) => m.fromAddress,
    bankOutflow: (m) => amountOf(m),
    validateBasic(m) {
      const pf = addressProblem(m.fromAddress);
      if (pf) throw ErrInvalidAddress(`from_address: ${pf}`);
      const pt = addressProblem(m.toAddress);
      if (pt) throw ErrInvalidAddress(`to_address: ${pt}`);
      amountOf(m);
    },
    precheck(ctx, m) {
      // What handle() would surely refuse, refused before the tx enters the mempool (and pays a fee for nothing).
      if (!bank.getParams(ctx.store).sendEnabled) throw ErrSendDisabled();
      if (bank.isBlocked(m.toAddress)) throw ErrBlockedRecipient(`${m.toAddress} is a module account`);
      // what the sender's pending txs and this tx's earlier messages add or take, which the check state does not show
      bank.requireSpendable(ctx.store, m.fromAddress, amountOf(m), ctx.pendingBank?.(m.fromAddress) ?? 0n);
    },
    handle(ctx, m) {
      if (!bank.getParams(ctx.store).sendEnabled) throw ErrSendDisabled();
      if (bank.isBlocked(m.toAddress)) throw ErrBlockedRecipient(`${m.toAddress} is a module account`);
      bank.send(ctx, m.fromAddress, m.toAddress, amountOf(m));
    },
  };
  return [send];
}
