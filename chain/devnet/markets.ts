/**
 * The devnet's default markets and oracle set-up (genesis app_state sections).
 * Prices: BTC 1 unit = $0.00001 (exponent −5), ETH 1 unit = $0.000001 (−6);
 * sizes: BTC 1 quantum = 10^-10 BTC, ETH 1 quantum = 10^-9 ETH.
 */
export const DEVNET_MARKETS = [
  {
    id: 0,
    ticker: 'BTC-USD',
    status: 'active',
    atomic_resolution: -10,
    price_exponent: -5,
    tick_size: '100000', // $1
    step_size: '100000', // 0.00001 BTC
    min_order_size: '100000',
    initial_margin_ppm: '50000', // 5% (20x)
    maintenance_margin_ppm: '30000', // 3%
    oi_lower_cap: '0',
    oi_upper_cap: '0',
    max_open_interest: '0',
    interest_rate_ppm: '0',
    funding_rate_cap_ppm: '1250', // 0.125% per hour
    impact_notional: '10000000000', // 10,000 USDC
  },
  {
    id: 1,
    ticker: 'ETH-USD',
    status: 'active',
    atomic_resolution: -9,
    price_exponent: -6,
    tick_size: '10000', // $0.01
    step_size: '1000000', // 0.001 ETH
    min_order_size: '1000000',
    initial_margin_ppm: '50000',
    maintenance_margin_ppm: '30000',
    oi_lower_cap: '0',
    oi_upper_cap: '0',
    max_open_interest: '0',
    interest_rate_ppm: '0',
    funding_rate_cap_ppm: '1250',
    impact_notional: '10000000000',
  },
] as const;

/** Initial oracle prices (price units) for the devnet markets. */
export const DEVNET_INITIAL_PRICES = [
  { market_id: 0, price: '6500000000' }, // $65,000
  { market_id: 1, price: '3000000000' }, // $3,000
];

/** app_state sections for markets, with `authority` creating/changing markets and `feeders` sending prices. */
export function marketsAppState(authority: string, feeders: string[]): Record<string, unknown> {
  return {
    prices: { params: { feeders, min_change_ppm: '10', max_move_ppm: '100000', staleness_seconds: '60' }, prices: DEVNET_INITIAL_PRICES },
    perpetuals: { params: { authority, funding_interval_seconds: '3600' }, markets: DEVNET_MARKETS },
  };
}
