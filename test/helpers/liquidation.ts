import { TestChain, expectOk } from './chain.js';
import type { TestKey } from './keys.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { moduleAddress } from '../../chain/codec/address.js';
import { depositMsg, place, type OrderSpec } from './orders.js';

/** The insurance fund's module account. */
export const INSURANCE = moduleAddress('insurance_fund');
/** ETH-USD price units (10^-6 USD) of a dollar price. */
export const ETH = (dollars: number) => BigInt(Math.round(dollars * 100)) * 10_000n;
/** ETH-USD quantums (10^-9 ETH) of an ETH amount. */
export const eth = (n: number) => BigInt(Math.round(n * 1000)) * 1_000_000n;

export interface LiquidationChainOptions {
  authority: TestKey;
  feeder: TestKey;
  /** uusdc in the insurance fund at genesis (seeded through bank balances: a MsgSend to a module account is refused). */
  fund?: bigint;
  liquidation?: Record<string, unknown>;
  clob?: Record<string, unknown>;
  auth?: Record<string, unknown>;
}

/**
 * A chain for liquidation tests, one empty block in: the devnet markets, an oracle that may move any distance in
 * one report (a test crashes the price at once), trading fees 0 so every figure is round, every key funded with
 * $10,000,000, and min_liquidation_notional $100,000 (positions close whole in one step) unless overridden.
 */
export function liquidationChain(keys: TestKey[], o: LiquidationChainOptions): TestChain {
  const fund = o.fund ?? 0n;
  const ms = marketsAppState(o.authority.address, [o.feeder.address]) as { prices: { params: Record<string, string> } };
  ms.prices.params.max_move_ppm = '1000000';
  const c = TestChain.create({
    keys,
    balance: 10_000_000_000_000n,
    appState: {
      ...ms,
      bank: { balances: [...keys.map((k) => ({ address: k.address, amount: '10000000000000' })), ...(fund > 0n ? [{ address: INSURANCE, amount: fund.toString() }] : [])] },
      clob: { params: { taker_fee_ppm: 0, maker_fee_ppm: 0, ...o.clob } },
      liquidation: { params: { min_liquidation_notional: '100000000000', ...o.liquidation } },
      ...(o.auth ? { auth: { params: o.auth } } : {}),
    },
  });
  c.block();
  return c;
}

/** Deposit whole dollars into subaccount n, in a block of its own. */
export async function deposit(c: TestChain, k: TestKey, dollars: number, n = 0): Promise<void> {
  expectOk(c.block([await c.sign(k, [depositMsg(k.address, BigInt(dollars) * 1_000_000n, n)])]).txResults[0]!);
}

/** The maker rests an order, the taker crosses it in the next block (both must succeed). */
export async function trade(c: TestChain, maker: TestKey, taker: TestKey, o: Omit<OrderSpec, 'clientId' | 'side'> & { makerSide: 'buy' | 'sell' }, cid: number): Promise<void> {
  const { makerSide, ...rest } = o;
  c.block([await place(c, maker, { ...rest, clientId: cid, side: makerSide })]).txResults.forEach(expectOk);
  c.block([await place(c, taker, { ...rest, clientId: cid, side: makerSide === 'buy' ? 'sell' : 'buy' })]).txResults.forEach(expectOk);
}
