/**
 * A client-id record written before records kept the order's market, side and placement height (a home from
 * an earlier perpchain) still decodes: its side is undefined, not a made-up one, and its JSON leaves market,
 * side and height out instead of claiming market 0 or "side undefined". Clients then cannot tell a retry
 * from a collision for it, and the Trader treats it as before (already placed).
 */
import { describe, expect, it } from 'vitest';
import Long from 'long';
import { perpchain } from '../../proto/gen/perpchain.js';
import { clientIdRecordJson, decodeClientIdRecord, encodeClientIdRecord } from '../../modules/clob/types.js';

describe('client id records from before market and side were kept', () => {
  it('decode with no side and print without market, side and height', () => {
    const old = perpchain.clob.v1.ClientIdRecord.encode({ orderId: Long.fromNumber(12, true), open: false, releaseHeight: Long.fromNumber(2107) }).finish();
    const r = decodeClientIdRecord(old);
    expect(r).toMatchObject({ orderId: 12n, open: false, releaseHeight: 2107n, side: undefined });
    expect(clientIdRecordJson(r)).toEqual({ order_id: '12', open: false, release_height: '2107' });
  });

  it('a current record round-trips with all its fields', () => {
    const r = { orderId: 7n, open: true, releaseHeight: 0n, marketId: 1, side: 'sell' as const, placedHeight: 42n };
    expect(decodeClientIdRecord(encodeClientIdRecord(r))).toEqual(r);
    expect(clientIdRecordJson(r)).toEqual({ order_id: '7', open: true, release_height: '0', market_id: 1, side: 'sell', placed_height: '42' });
  });
});
