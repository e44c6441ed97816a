/**
 * Cancel and amend name an order by the chain's order id or by the trader's client id. A client id that is not a
 * uint32 used to go to the encoder as it was, and protobuf cut it to 32 bits: cancelling client id 2^32 + 5 cancelled
 * order 5, -1 cancelled 4294967295. The SDK refuses such ids as placement does; what goes on the wire is checked
 * by decoding the registry's bytes, as the chain will.
 */
import { describe, expect, it } from 'vitest';
import { perpchain } from '../../proto/gen/perpchain.js';
import { createRegistry } from '../../client/registry.js';
import { marketSpec, UnitsError } from '../../client/units.js';
import { amendOrderMsg, cancelOrderMsg } from '../../client/orders.js';

const BTC = marketSpec({ id: 0, ticker: 'BTC-USD', atomic_resolution: -10, price_exponent: -5, tick_size: '100000', step_size: '100000', min_order_size: '100000' });
const registry = createRegistry();
const onWire = (msg: { typeUrl: string; value: unknown }) => {
  const bytes = registry.encode(msg);
  return msg.typeUrl.endsWith('MsgCancelOrder') ? perpchain.clob.v1.MsgCancelOrder.decode(bytes) : perpchain.clob.v1.MsgAmendOrder.decode(bytes);
};

describe('SDK: naming the order to cancel or amend', () => {
  it('a uint32 client id reaches the wire unchanged, at both ends of the range', () => {
    for (const clientId of [0, 5, 0xffffffff]) {
      expect(onWire(cancelOrderMsg('perp1owner', 0, { clientId }))).toMatchObject({ clientId, byClientId: true });
      expect(onWire(amendOrderMsg('perp1owner', 0, BTC, { clientId }, { size: '0.01' }))).toMatchObject({ clientId, byClientId: true });
    }
  });

  it('a client id that is not a uint32 is refused, not cut to another order', () => {
    for (const clientId of [2 ** 32 + 5, -1, 1.5, Number.NaN]) {
      expect(() => cancelOrderMsg('perp1owner', 0, { clientId })).toThrow(UnitsError);
      expect(() => cancelOrderMsg('perp1owner', 0, { clientId })).toThrow(/clientId must be a uint32/);
      expect(() => amendOrderMsg('perp1owner', 0, BTC, { clientId }, { size: '0.01' })).toThrow(/clientId must be a uint32/);
    }
  });

  it('an order id that does not fit a uint64 is refused; naming neither is a typed error; the order id wins when both are given', () => {
    expect(() => cancelOrderMsg('perp1owner', 0, { orderId: 1n << 64n })).toThrow(/orderId .* does not fit in a uint64/);
    expect(() => cancelOrderMsg('perp1owner', 0, { orderId: -1n })).toThrow(UnitsError);
    expect(() => cancelOrderMsg('perp1owner', 0, {})).toThrow(UnitsError);
    for (const bad of ['1.5', 'abc', '-3', '']) expect(() => cancelOrderMsg('perp1owner', 0, { orderId: bad })).toThrow(/orderId must be a whole number/);
    expect(onWire(cancelOrderMsg('perp1owner', 0, { orderId: '18446744073709551615' })).orderId.toString()).toBe('18446744073709551615');
    // a PlaceResult carries both ids; cancelling it names the chain's id
    expect(onWire(cancelOrderMsg('perp1owner', 0, { orderId: 42n, clientId: 7 }))).toMatchObject({ byClientId: false });
    expect(onWire(cancelOrderMsg('perp1owner', 0, { orderId: 42n, clientId: 7 })).orderId.toString()).toBe('42');
  });
});
