import { Registry, type GeneratedType } from '@cosmjs/proto-signing';
import { perpchain } from '../proto/gen/perpchain.js';

const t = (x: unknown) => x as GeneratedType;

/**
 * Type URL → protobuf type of every message a trader, feeder or market
 * authority signs. A stock cosmjs Registry built from this list signs
 * transactions perpchain accepts.
 */
export const perpchainTypes: ReadonlyArray<[string, GeneratedType]> = [
  ['/perpchain.bank.v1.MsgSend', t(perpchain.bank.v1.MsgSend)],
  ['/perpchain.subaccounts.v1.MsgDeposit', t(perpchain.subaccounts.v1.MsgDeposit)],
  ['/perpchain.subaccounts.v1.MsgWithdraw', t(perpchain.subaccounts.v1.MsgWithdraw)],
  ['/perpchain.subaccounts.v1.MsgTransfer', t(perpchain.subaccounts.v1.MsgTransfer)],
  ['/perpchain.prices.v1.MsgUpdatePrices', t(perpchain.prices.v1.MsgUpdatePrices)],
  ['/perpchain.prices.v1.MsgUpdateParams', t(perpchain.prices.v1.MsgUpdateParams)],
  ['/perpchain.perpetuals.v1.MsgCreateMarket', t(perpchain.perpetuals.v1.MsgCreateMarket)],
  ['/perpchain.perpetuals.v1.MsgUpdateMarket', t(perpchain.perpetuals.v1.MsgUpdateMarket)],
  ['/perpchain.perpetuals.v1.MsgUpdateParams', t(perpchain.perpetuals.v1.MsgUpdateParams)],
  ['/perpchain.clob.v1.MsgPlaceOrder', t(perpchain.clob.v1.MsgPlaceOrder)],
  ['/perpchain.clob.v1.MsgCancelOrder', t(perpchain.clob.v1.MsgCancelOrder)],
  ['/perpchain.clob.v1.MsgAmendOrder', t(perpchain.clob.v1.MsgAmendOrder)],
  ['/perpchain.clob.v1.MsgUpdateParams', t(perpchain.clob.v1.MsgUpdateParams)],
  ['/perpchain.liquidation.v1.MsgUpdateParams', t(perpchain.liquidation.v1.MsgUpdateParams)],
];

export function createRegistry(): Registry {
  return new Registry([...perpchainTypes]);
}
