/**
 * The Trader's answer to clob/6 (duplicate client id) and its transfer/send messages, against a scripted
 * client (no node): what `client_order` says decides between "already placed" and a collision, and the
 * transfer and send the Trader signs carry the right accounts, subaccounts, amounts and gas. Edges the e2e
 * tests do not reach (mutation round): a record from before the chain kept market and side, a closed order's
 * reason, a transfer from a subaccount other than 0.
 */
import { describe, expect, it } from 'vitest';
import { AuthInfo, TxBody, TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { Trader, TxError, type ClientOrderInfo, type MarketSpec, type PerpchainClient, type TxInclusion } from '../../client/index.js';
import { perpchain } from '../../proto/gen/perpchain.js';
import { TestKey } from '../helpers/keys.js';

const key = new TestKey('trader-client-id-edges');
const other = new TestKey('trader-client-id-edges-other');
const BTC: MarketSpec = { id: 0, ticker: 'BTC-USD', atomicResolution: -10, priceExponent: -5, tickSize: 1n, stepSize: 1n, minOrderSize: 1n };

/** Every submission passes CheckTx and is included with `inclusion` (code 0 by default); `client_order` answers `info`. */
function scripted(o: { inclusion?: Partial<TxInclusion>; clientOrder?: () => Promise<ClientOrderInfo> } = {}) {
  const sent: Uint8Array[] = [];
  const client = {
    account: async () => ({ account_number: '3', sequence: '0' }),
    chainIdReady: async () => 'perpchain-scripted-1',
    market: async (ref: string | number) => {
      if (ref !== 'BTC-USD' && ref !== 0) throw new Error(`unknown market ${ref}`);
      return BTC;
    },
    clientOrder: o.clientOrder ?? (() => Promise.reject(new Error('not scripted'))),
    submitTx: async (bytes: Uint8Array) => {
      sent.push(bytes);
      const hash = 'AB'.repeat(32);
      const inc = { hash, status: 'included', height: 9, data: '', code: 0, codespace: '', log: '', gas_wanted: '0', gas_used: '0', events: [], ...o.inclusion } as TxInclusion;
      return { hash, checkTx: { code: 0, codespace: '', log: '' }, inclusion: Promise.resolve(inc) };
    },
    conn: { request: async () => ({ status: 'unknown' }), whenOpen: async () => {} },
  };
  return { client: client as unknown as PerpchainClient, sent };
}

const dup = (log: string): Partial<TxInclusion> => ({ code: 6, codespace: 'clob', log });
const place = { market: 'BTC-USD', side: 'buy' as const, price: '60000', size: '0.001', clientId: 7 };

function decoded(bytes: Uint8Array) {
  const raw = TxRaw.decode(bytes);
  const body = TxBody.decode(raw.bodyBytes);
  const auth = AuthInfo.decode(raw.authInfoBytes);
  return { msgs: body.messages, gas: BigInt(auth.fee!.gasLimit.toString()), fee: auth.fee!.amount };
}

describe('Trader: clob/6 answered from client_order', () => {
  it('a record from before market and side were kept cannot be told from a retry: already placed, not a collision', async () => {
    const { client } = scripted({
      inclusion: dup('client id 7 was order 12; it can be reused from height 2107'),
      clientOrder: async () => ({ order_id: '12', placed_height: 0, open: false, release_height: 2107 }),
    });
    const tr = await Trader.create({ client, signer: key, gasPriceMicro: 1000n });
    const r = await tr.placeOrder(place);
    expect(r).toMatchObject({ alreadyPlaced: true, orderId: 12n, status: 'closed', clientId: 7 });
  });

  it('a closed order\'s reason, as the node remembers it, is the result\'s reason', async () => {
    const { client } = scripted({
      inclusion: dup('client id 7 was order 12 (buy in market 0); it can be reused from height 2107'),
      clientOrder: async () => ({ order_id: '12', placed_height: 40, open: false, market_id: 0, side: 'buy', release_height: 2107, closed_reason: 'cancelled' }),
    });
    const tr = await Trader.create({ client, signer: key, gasPriceMicro: 1000n });
    expect(await tr.placeOrder(place)).toMatchObject({ alreadyPlaced: true, orderId: 12n, status: 'closed', reason: 'cancelled', height: 40 });
  });

  it('an open order that holds the id for another market is a collision (clob/6), naming it', async () => {
    const { client } = scripted({
      inclusion: dup('client id 7 is order 12 (buy in market 1), still open'),
      clientOrder: async () => ({ order_id: '12', placed_height: 40, open: true, market_id: 1, side: 'buy' }),
    });
    const tr = await Trader.create({ client, signer: key, gasPriceMicro: 1000n });
    const e = await tr.placeOrder(place).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TxError);
    expect((e as TxError).message).toMatch(/it holds order 12: buy in market 1, not this buy in market 0/);
  });

  it('when the node cannot answer: an old-style message (no side and market) is already placed; one naming the other side is a collision', async () => {
    const down = () => Promise.reject(new Error('connection lost'));
    const old = scripted({ inclusion: dup('client id 7 is order 12, still open'), clientOrder: down });
    expect(await (await Trader.create({ client: old.client, signer: key, gasPriceMicro: 1000n })).placeOrder(place)).toMatchObject({ alreadyPlaced: true, orderId: 12n, status: 'open' });
    const sell = scripted({ inclusion: dup('client id 7 is order 12 (sell in market 0), still open'), clientOrder: down });
    const e = await (await Trader.create({ client: sell.client, signer: key, gasPriceMicro: 1000n })).placeOrder(place).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TxError);
    expect((e as TxError).message).toMatch(/not this buy in market 0/);
  });
});

describe('Trader.transfer and Trader.send sign what they say', () => {
  it('transfer: from the trader\'s own subaccount to the owner\'s other one or to another owner\'s, with its gas', async () => {
    const { client, sent } = scripted();
    const tr = await Trader.create({ client, signer: key, subaccount: 2, gasPriceMicro: 1000n });
    await tr.transfer('12.5', { subaccount: 5 });
    await tr.transfer('3', { owner: other.address, subaccount: 1 });
    const [a, b] = sent.map(decoded);
    expect(a!.msgs[0]!.typeUrl).toBe('/perpchain.subaccounts.v1.MsgTransfer');
    const ma = perpchain.subaccounts.v1.MsgTransfer.decode(a!.msgs[0]!.value);
    expect({ owner: ma.owner, from: ma.fromNumber, toOwner: ma.toOwner, to: ma.toNumber, amount: ma.amount.toString() }).toEqual({ owner: key.address, from: 2, toOwner: key.address, to: 5, amount: '12500000' });
    const mb = perpchain.subaccounts.v1.MsgTransfer.decode(b!.msgs[0]!.value);
    expect({ owner: mb.owner, from: mb.fromNumber, toOwner: mb.toOwner, to: mb.toNumber, amount: mb.amount.toString() }).toEqual({ owner: key.address, from: 2, toOwner: other.address, to: 1, amount: '3000000' });
    expect(a!.gas).toBe(200_000n);
    expect(a!.fee).toEqual([{ denom: 'uusdc', amount: '200' }]);
  });

  it('send: from the trader\'s address to the recipient, with its gas', async () => {
    const { client, sent } = scripted();
    const tr = await Trader.create({ client, signer: key, gasPriceMicro: 1000n });
    await tr.send(other.address, '0.25');
    const d = decoded(sent[0]!);
    expect(d.msgs[0]!.typeUrl).toBe('/perpchain.bank.v1.MsgSend');
    const m = perpchain.bank.v1.MsgSend.decode(d.msgs[0]!.value);
    expect({ from: m.fromAddress, to: m.toAddress, amount: m.amount.toString() }).toEqual({ from: key.address, to: other.address, amount: '250000' });
    expect(d.gas).toBe(100_000n);
    expect(d.fee).toEqual([{ denom: 'uusdc', amount: '100' }]);
  });
});
