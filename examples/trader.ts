/**
 * A market maker on a running devnet, with the perpchain SDK:
 *   connects, deposits, quotes both sides of BTC-USD around the oracle
 *   price, requotes when the oracle moves, and prints its fills and the book.
 *   A second dev account takes liquidity now and then so there are fills.
 *
 *   npm start                       # in one terminal (devnet at ws://127.0.0.1:8090, home ./.perpchain)
 *   npm run example:trader          # in another
 *
 * Options (or env): --url (PERPCHAIN_URL), --home (PERPCHAIN_HOME, default ./.perpchain),
 * --maker dev1 --taker dev2 (account names in <home>/keys/dev-accounts.json),
 * --seconds 30, --spread 25 (USD each side), --size 0.01 (BTC).
 *
 * Devnet only: the dev account mnemonics are stored in plain text. If the
 * node's own price replay is off and the oracle goes stale (orders are then
 * refused), the example re-reports the price with the devnet feeder key.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import Long from 'long';
import { PerpchainClient, Trader, unitsToPrice, quantumsToSize, microToUsdc, D, TxError, type ChannelMessage, type AccountUpdateData, type MarketSpec } from '../client/index.js';

function opt(name: string, env: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1]) return process.argv[i + 1]!;
  return process.env[env] ?? def;
}

const url = opt('url', 'PERPCHAIN_URL', 'ws://127.0.0.1:8090');
const home = resolve(opt('home', 'PERPCHAIN_HOME', './.perpchain'));
const makerName = opt('maker', 'PERPCHAIN_MAKER', 'dev1');
const takerName = opt('taker', 'PERPCHAIN_TAKER', 'dev2');
const seconds = Number(opt('seconds', 'PERPCHAIN_SECONDS', '30'));
const spreadUsd = new D(opt('spread', 'PERPCHAIN_SPREAD', '25'));
const size = opt('size', 'PERPCHAIN_SIZE', '0.01');
const MARKET = 'BTC-USD';

interface DevKeys {
  price_feeder: string;
  accounts: Array<{ name: string; address: string; mnemonic: string }>;
}

async function wallet(keys: DevKeys, name: string) {
  const a = keys.accounts.find((x) => x.name === name);
  if (!a) throw new Error(`no account "${name}" in ${join(home, 'keys/dev-accounts.json')} (have: ${keys.accounts.map((x) => x.name).join(', ')})`);
  return DirectSecp256k1HdWallet.fromMnemonic(a.mnemonic, { prefix: 'perp' });
}

async function main(): Promise<void> {
  const keysPath = join(home, 'keys', 'dev-accounts.json');
  if (!existsSync(keysPath)) throw new Error(`${keysPath} not found: start a devnet first (npm start) or pass --home`);
  const keys = JSON.parse(readFileSync(keysPath, 'utf8')) as DevKeys;

  const client = await PerpchainClient.connect({ url, log: (l) => console.log(l) });
  client.conn.on('reconnecting', (r) => console.log(`connection lost; reconnecting in ${r.delayMs} ms (attempt ${r.attempt})`));
  console.log(`connected to ${url}: chain ${client.chainId}, height ${(await client.status()).height}`);
  const btc: MarketSpec = await client.market(MARKET);
  const fmtP = (u: bigint | string) => unitsToPrice(btc, u).toFixed(0);
  const fmtS = (q: bigint | string) => quantumsToSize(btc, q).toString();

  const maker = await Trader.create({ client, signer: await wallet(keys, makerName) });
  const taker = await Trader.create({ client, signer: await wallet(keys, takerName) });
  const feeder = keys.accounts.find((a) => a.address === keys.price_feeder);
  const feederTrader = feeder ? await Trader.create({ client, signer: await DirectSecp256k1HdWallet.fromMnemonic(feeder.mnemonic, { prefix: 'perp' }) }) : undefined;

  // the devnet node replays historic prices itself (config feeder.enabled); only if the oracle
  // has gone stale (feeder off) does the example re-report the current price to keep orders accepted
  const feed = async () => {
    if (!feederTrader) return;
    const m = (await client.markets()).find((x) => x.ticker === MARKET)!;
    if (!m.oracle_stale) return;
    await feederTrader.execute([{ typeUrl: '/perpchain.prices.v1.MsgUpdatePrices', value: { feeder: feederTrader.address, prices: [{ marketId: m.id, price: Long.fromString(m.oracle_price, true) }] } }], 100_000n).catch((e: Error) => console.log(`price feed: ${e.message}`));
  };
  await feed();

  for (const t of [maker, taker]) {
    const sub = await client.subaccount(t.address, 0);
    if (BigInt(sub.collateral) < 10_000_000_000n) {
      await t.deposit('10000');
      console.log(`${t === maker ? makerName : takerName} ${t.address}: deposited 10,000 USDC`);
    }
  }

  const book = await client.orderBook(MARKET);
  book.on('resync', (e) => console.log(`book resync (${e.reason}): ${e.message}`));

  // the maker's own view: fills, funding, liquidations, margin after each block
  await client.subscribe<AccountUpdateData>(`account:${maker.address}`, (m: ChannelMessage<AccountUpdateData>) => {
    if (m.type !== 'update') return;
    for (const f of m.data.fills) {
      const a = f.attributes;
      const side = a.maker_owner === maker.address ? (a.taker_side === 'buy' ? 'sold' : 'bought') : a.taker_side === 'buy' ? 'bought' : 'sold';
      console.log(`  FILL h${m.height}: ${makerName} ${side} ${fmtS(a.size!)} BTC @ ${fmtP(a.price!)}  (order ${a.maker_owner === maker.address ? a.maker_order_id : a.taker_order_id})`);
    }
    const s = m.data.subaccounts?.[0];
    if (s && m.data.fills.length) console.log(`  margin: collateral ${microToUsdc(s.collateral).toFixed(2)} USDC, free ${microToUsdc(s.free_collateral).toFixed(2)}, position ${s.positions.map((p) => fmtS(p.size)).join(', ') || 'none'}`);
  });

  let quoted: { mid: bigint; bid?: number; ask?: number } | undefined;
  /** Height of the block that holds the latest quotes: the taker reads the book only once it has caught up. */
  let quotedAt = 0;
  const requote = async () => {
    const m = (await client.markets()).find((x) => x.ticker === MARKET)!;
    const oracle = unitsToPrice(btc, m.oracle_price);
    const mid = BigInt(m.oracle_price);
    if (quoted && quoted.mid === mid) return;
    const bid = oracle.minus(spreadUsd).toDecimalPlaces(0, D.ROUND_DOWN);
    const ask = oracle.plus(spreadUsd).toDecimalPlaces(0, D.ROUND_UP);
    const ops: Parameters<Trader['batch']>[0] = [];
    if (quoted?.bid !== undefined) ops.push({ op: 'cancel', clientId: quoted.bid });
    if (quoted?.ask !== undefined) ops.push({ op: 'cancel', clientId: quoted.ask });
    const bidId = maker.nextClientId();
    const askId = maker.nextClientId();
    ops.push({ op: 'place', market: MARKET, side: 'buy', price: bid, size, clientId: bidId, timeInForce: 'post_only' });
    ops.push({ op: 'place', market: MARKET, side: 'sell', price: ask, size, clientId: askId, timeInForce: 'post_only' });
    try {
      const r = await maker.batch(ops);
      quoted = { mid, bid: bidId, ask: askId };
      quotedAt = r.height;
      const placed = r.results.filter((x) => x);
      console.log(`quoted at h${r.height}: bid ${bid.toFixed(0)} / ask ${ask.toFixed(0)} × ${size} BTC (orders ${placed.map((x) => x!.orderId).join(', ')})`);
    } catch (e) {
      // a cancel of an already filled quote fails the batch: forget the old quotes and quote afresh
      if (e instanceof TxError && quoted) {
        quoted = undefined;
        return requote();
      }
      throw e;
    }
  };

  const printBook = () => {
    const h = book.book.human(btc, 5);
    console.log(`book ${MARKET} @ h${book.book.height} (checksum ${book.book.nodeChecksum} verified, ${book.resyncs} resyncs)`);
    for (const l of [...h.asks].reverse()) console.log(`      ask ${l.price.toFixed(0).padStart(8)}  ${l.size.toString().padStart(8)}  (${l.count})`);
    for (const l of h.bids) console.log(`      bid ${l.price.toFixed(0).padStart(8)}  ${l.size.toString().padStart(8)}  (${l.count})`);
  };

  const end = Date.now() + seconds * 1000;
  let tick = 0;
  while (Date.now() < end) {
    await requote();
    if (tick % 3 === 2) {
      // the taker lifts or hits the maker's quote with an IOC
      const side = tick % 2 ? 'buy' : 'sell';
      // the tx result can arrive before that block's book delta: wait for it (up to 3 s), or the taker may hit a
      // quote the maker has just replaced
      for (let waited = 0; book.book.height < quotedAt && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      const best = side === 'buy' ? book.book.bestAsk() : book.book.bestBid();
      if (best) {
        const r = await taker.placeOrder({ market: MARKET, side, price: unitsToPrice(btc, best.price), size: '0.002', timeInForce: 'ioc' });
        console.log(`${takerName} ${side} IOC 0.002 @ ${fmtP(best.price)}: ${r.status}, filled ${fmtS(r.filled)} BTC`);
      }
    }
    if (tick % 4 === 0) printBook();
    if (tick % 10 === 9) await feed();
    tick++;
    await new Promise((r) => setTimeout(r, 1000));
  }

  if (quoted) {
    await maker.batch([{ op: 'cancel', clientId: quoted.bid! }, { op: 'cancel', clientId: quoted.ask! }]).catch(() => undefined);
  }
  printBook();
  const fills = await client.fills(MARKET, maker.address);
  console.log(`${makerName} had ${fills.length} fills in the node's recent-fills window; done.`);
  client.close();
}

main().catch((e: Error) => {
  console.error(`example failed: ${e.message}`);
  process.exit(1);
});
