// perpchain market page: a read-only client of the node's WebSocket API
// (chain/api/README.md). No libraries, nothing fetched from elsewhere.
// The book is kept from snapshot + deltas and every delta is verified
// (seq, height, CRC-32 checksum of the top 25 levels); on a failure the
// page resubscribes for a fresh snapshot.

const $ = (id) => document.getElementById(id);
const state = {
  ws: null,
  nextId: 1,
  pending: new Map(),
  markets: new Map(), // id → market json
  selected: null, // ticker shown
  subscribed: null, // ticker whose book, trades and candles channels are subscribed
  book: null, // { bids: Map, asks: Map, height, seq, checksum, ready }
  trades: [],
  candles: [],
  resyncs: 0,
  closes: [],
  errors: [],
  switchesQueued: 0, // market switches clicked and not yet applied (0: what is shown is the last click)
};

// ---------------------------------------------------------------- numbers

/** Integer string · 10^exp as a decimal string (exact, no floats). */
function shift(intStr, exp) {
  let s = String(intStr);
  const neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  if (exp >= 0) return (neg ? '-' : '') + s + '0'.repeat(exp);
  const k = -exp;
  s = s.padStart(k + 1, '0');
  let out = s.slice(0, s.length - k) + '.' + s.slice(s.length - k);
  out = out.replace(/\.?0+$/, '');
  return (neg ? '-' : '') + out;
}
const fmtPrice = (m, units) => shift(units, m.price_exponent);
const fmtSize = (m, q) => shift(q, m.atomic_resolution);
const fmtUsdc = (u) => shift(u, -6);

// ---------------------------------------------------------------- checksum

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(text) {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = CRC[(c ^ text.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function sortedLevels(map, bids) {
  const ls = [...map.entries()].map(([p, v]) => [p, v[0], v[1]]);
  ls.sort((a, b) => {
    const x = BigInt(a[0]);
    const y = BigInt(b[0]);
    return bids ? (x > y ? -1 : x < y ? 1 : 0) : x < y ? -1 : x > y ? 1 : 0;
  });
  return ls;
}
function checksumOf(book) {
  const side = (ls) => ls.slice(0, 25).map((l) => `${l[0]}:${l[1]}:${l[2]}`).join(',');
  return crc32(side(sortedLevels(book.bids, true)) + '|' + side(sortedLevels(book.asks, false)));
}

// ---------------------------------------------------------------- socket

function request(method, params = {}) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('not connected'));
  const id = state.nextId++;
  return new Promise((resolve, reject) => {
    state.pending.set(id, { resolve, reject });
    state.ws.send(JSON.stringify({ id, method, params }));
  });
}

/** Reconnect delay: 1 s, doubling to 10 s while the node stays away; back to 1 s once it answers. */
let retryMs = 1000;
/** When the node last sent anything (a hung node or a half-open connection sends nothing). */
let lastHeard = 0;
const SILENCE_MS = 10_000;

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`);
  state.ws = ws;
  lastHeard = Date.now();
  ws.onmessage = (ev) => {
    lastHeard = Date.now();
    onMessage(JSON.parse(ev.data));
  };
  ws.onclose = (ev) => onClosed(ws, ev.code, ev.reason);
}

function onClosed(ws, code, reason) {
  if (state.ws !== ws) return;
  state.ws = null;
  state.closes.push(`${code} ${reason}`);
  if (state.closes.length > 20) state.closes.splice(0, state.closes.length - 20);
  $('conn').textContent = `disconnected (${code}${reason ? ' ' + reason : ''}), retrying in ${Math.round(retryMs / 1000)} s…`;
  $('conn').className = 'bad';
  // what is on screen is no longer live: say so instead of "verified"
  const st = $('book-status');
  if (state.book) st.textContent = `not live: last verified at height ${state.book.height}`;
  st.className = 'bad';
  st.dataset.ready = 'false';
  document.body.classList.add('stale');
  for (const p of state.pending.values()) p.reject(new Error('closed'));
  state.pending.clear();
  state.subscribed = null; // the server forgot our subscriptions with the connection
  setTimeout(connect, retryMs);
  retryMs = Math.min(10_000, retryMs * 2);
}

// A node that stops answering (hung, or a connection that died without a close) is noticed: ask it every few
// seconds, and drop the socket (and reconnect) when it has been silent for SILENCE_MS.
setInterval(() => {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (Date.now() - lastHeard > SILENCE_MS) {
    // a closing handshake with a hung peer can take long: give up on this socket now
    ws.onclose = null;
    ws.close(4000, 'node silent');
    onClosed(ws, 4000, `no answer for ${Math.round((Date.now() - lastHeard) / 1000)} s`);
    return;
  }
  request('ping').catch(() => {});
}, 3000);

async function onWelcome(w) {
  const reselect = state.selected; // after a reconnect: the market shown before
  retryMs = 1000;
  document.body.classList.remove('stale');
  $('chain').textContent = w.chain_id;
  $('conn').textContent = 'live';
  $('conn').className = 'ok';
  await request('subscribe', { channel: 'markets' });
  await request('subscribe', { channel: 'blocks' });
  await request('subscribe', { channel: 'risk' });
  if (reselect) await selectMarket(reselect, true);
}

function onMessage(msg) {
  if (msg.type === 'welcome') return void onWelcome(msg.data).catch((e) => state.errors.push(String(e)));
  if (msg.type === 'error') state.errors.push(`${msg.error.code}: ${msg.error.message}`);
  if (msg.channel) return onChannel(msg);
  if (msg.id != null && state.pending.has(msg.id)) {
    const p = state.pending.get(msg.id);
    state.pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`${msg.error.code}: ${msg.error.message}`));
    else p.resolve(msg.result);
  }
}

function onChannel(msg) {
  const [kind] = msg.channel.split(':');
  if (kind === 'markets') {
    for (const m of msg.data.markets) state.markets.set(m.id, m);
    renderMarkets();
    if (!state.selected && state.markets.size) void selectMarket([...state.markets.values()][0].ticker);
  } else if (kind === 'blocks') {
    if (!msg.data) return;
    $('height').textContent = msg.data.height;
    $('block-time').textContent = msg.data.time ? `${msg.data.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} · ${msg.data.tx_count} txs` : '';
  } else if (kind === 'risk') {
    renderRisk(msg.data);
  } else if (msg.channel === `orderbook:${state.selected}`) {
    onBook(msg);
  } else if (msg.channel === `trades:${state.selected}`) {
    state.trades = msg.type === 'snapshot' ? msg.data.trades : state.trades.concat(msg.data.trades);
    state.trades = state.trades.slice(-50);
    renderTrades();
  } else if (msg.channel === `candles:${state.selected}:1m`) {
    if (msg.type === 'snapshot') state.candles = msg.data.candles.slice();
    else for (const c of msg.data.candles) {
      const i = state.candles.findIndex((x) => x.t === c.t);
      if (i >= 0) state.candles[i] = c;
      else state.candles.push(c);
    }
    state.candles = state.candles.slice(-120);
    renderChart();
  }
}

// ---------------------------------------------------------------- book

function onBook(msg) {
  const b = state.book;
  if (msg.type === 'snapshot') {
    state.book = { bids: new Map(), asks: new Map(), height: msg.height, seq: msg.seq, checksum: msg.data.checksum, ready: true, resyncing: false };
    for (const l of msg.data.bids) state.book.bids.set(l[0], [l[1], l[2]]);
    for (const l of msg.data.asks) state.book.asks.set(l[0], [l[1], l[2]]);
  } else {
    if (!b || !b.ready || b.resyncing) return;
    if (msg.seq !== b.seq + 1 || msg.height !== b.height + 1) return resync(`gap: seq ${b.seq}→${msg.seq}, height ${b.height}→${msg.height}`);
    for (const [side, list] of [['bids', msg.data.bids], ['asks', msg.data.asks]]) {
      for (const l of list) {
        if (l[1] === '0') b[side].delete(l[0]);
        else b[side].set(l[0], [l[1], l[2]]);
      }
    }
    b.height = msg.height;
    b.seq = msg.seq;
    b.checksum = msg.data.checksum;
  }
  const mine = checksumOf(state.book);
  if (mine !== state.book.checksum) return resync(`checksum ${mine} ≠ node ${state.book.checksum}`);
  renderBook();
}

/** Resyncs in the last few seconds: a book that keeps failing is asked again more slowly (up to 10 s apart). */
const recentResyncs = [];

function resync(why) {
  state.resyncs++;
  state.book.resyncing = true;
  $('book-status').textContent = `resyncing (${why})`;
  $('book-status').className = 'bad';
  const now = Date.now();
  recentResyncs.push(now);
  while (recentResyncs.length && now - recentResyncs[0] > 30_000) recentResyncs.shift();
  const delay = recentResyncs.length <= 2 ? 0 : Math.min(10_000, 500 * 2 ** (recentResyncs.length - 3));
  const ch = `orderbook:${state.selected}`;
  setTimeout(() => {
    if (`orderbook:${state.selected}` !== ch) return; // the market changed meanwhile
    request('unsubscribe', { channel: ch }).catch(() => {}).then(() => request('subscribe', { channel: ch })).catch((e) => state.errors.push(String(e)));
  }, delay);
}

/**
 * Show a market: clicks (and reconnects) are applied one after another, each waiting for the previous
 * switch's unsubscribe/subscribe round trips, so quick clicks cannot leave a stale book or two markets'
 * subscriptions behind. Clicking the market already shown does nothing.
 */
let switching = Promise.resolve();
function selectMarket(ticker, resubscribeOnly = false) {
  state.switchesQueued++;
  switching = switching
    .then(() => switchTo(ticker, resubscribeOnly))
    .catch((e) => state.errors.push(String(e)))
    .finally(() => state.switchesQueued--);
  return switching;
}

async function switchTo(ticker, resubscribeOnly) {
  if (!resubscribeOnly && ticker === state.selected && state.subscribed === ticker) return;
  const prev = state.subscribed;
  if (prev && prev !== ticker && !resubscribeOnly) {
    for (const ch of [`orderbook:${prev}`, `trades:${prev}`, `candles:${prev}:1m`]) await request('unsubscribe', { channel: ch }).catch(() => {});
  }
  state.subscribed = null;
  state.selected = ticker;
  state.book = null;
  state.trades = [];
  state.candles = [];
  $('book-market').textContent = ticker;
  $('asks').replaceChildren();
  $('bids').replaceChildren();
  $('spread-cell').textContent = '–';
  $('book-status').textContent = 'waiting for snapshot…';
  $('book-status').className = '';
  $('book-status').dataset.ready = 'false';
  renderTrades();
  renderChart();
  renderMarkets();
  for (const ch of [`orderbook:${ticker}`, `trades:${ticker}`, `candles:${ticker}:1m`]) {
    await request('subscribe', { channel: ch }).catch((e) => {
      if (!/already_subscribed/.test(String(e))) throw e;
    });
  }
  state.subscribed = ticker;
}

// ---------------------------------------------------------------- render

function marketOf(ticker) {
  return [...state.markets.values()].find((m) => m.ticker === ticker);
}

/** Market rows by ticker, updated in place: replacing them every block lost clicks and text selections. */
const marketRows = new Map();

function renderMarkets() {
  const body = $('markets').tBodies[0];
  for (const m of state.markets.values()) {
    let tr = marketRows.get(m.ticker);
    if (!tr) {
      tr = document.createElement('tr');
      tr.tabIndex = 0; // reachable by keyboard: Enter or Space selects
      tr.setAttribute('role', 'button');
      for (let i = 0; i < 5; i++) tr.append(document.createElement('td'));
      tr.onclick = () => void selectMarket(m.ticker);
      tr.onkeydown = (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          void selectMarket(m.ticker);
        }
      };
      marketRows.set(m.ticker, tr);
      body.append(tr);
    }
    const sel = m.ticker === state.selected;
    tr.className = sel ? 'sel' : '';
    tr.setAttribute('aria-pressed', sel ? 'true' : 'false');
    tr.setAttribute('aria-label', `show ${m.ticker}`);
    const rate = shift(m.last_funding_rate_ppm, -4) + '%';
    const values = [m.ticker, fmtPrice(m, m.oracle_price) + (m.oracle_stale ? ' (stale)' : ''), rate, fmtSize(m, m.open_interest), m.status];
    values.forEach((v, i) => {
      if (tr.cells[i].textContent !== v) tr.cells[i].textContent = v;
    });
  }
}

function renderBook() {
  const m = marketOf(state.selected);
  const b = state.book;
  if (!m || !b) return;
  const row = (l, cls) => {
    const tr = document.createElement('tr');
    tr.className = cls;
    tr.dataset.price = l[0];
    tr.dataset.size = l[1];
    tr.dataset.count = String(l[2]);
    for (const v of [fmtPrice(m, l[0]), fmtSize(m, l[1]), String(l[2])]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  };
  const bids = sortedLevels(b.bids, true);
  const asks = sortedLevels(b.asks, false);
  $('asks').replaceChildren(...asks.slice(0, 15).reverse().map((l) => row(l, 'ask')));
  $('bids').replaceChildren(...bids.slice(0, 15).map((l) => row(l, 'bid')));
  $('spread-cell').textContent = bids[0] && asks[0] ? `spread ${fmtPrice(m, (BigInt(asks[0][0]) - BigInt(bids[0][0])).toString())}` : '–';
  const st = $('book-status');
  st.textContent = `verified at height ${b.height} · checksum ${b.checksum} · ${bids.length} bid / ${asks.length} ask levels${state.resyncs ? ` · ${state.resyncs} resyncs` : ''}`;
  st.className = 'ok';
  st.dataset.height = String(b.height);
  st.dataset.ready = 'true';
  st.dataset.checksum = String(b.checksum);
  // for tests and scripts: the whole verified book
  window.__perpchainBook = { market: state.selected, height: b.height, checksum: b.checksum, bids, asks };
}

function renderTrades() {
  const m = marketOf(state.selected);
  if (!m) return;
  $('trades').tBodies[0].replaceChildren(
    ...state.trades
      .slice()
      .reverse()
      .slice(0, 30)
      .map((t) => {
        const tr = document.createElement('tr');
        for (const [v, cls] of [[t.time.slice(11, 19), ''], [t.taker_side, t.taker_side], [fmtPrice(m, t.price), t.taker_side], [fmtSize(m, t.size), '']]) {
          const td = document.createElement('td');
          td.textContent = v;
          if (cls) td.className = cls;
          tr.append(td);
        }
        return tr;
      }),
  );
}

function renderChart() {
  const svg = $('chart');
  const m = marketOf(state.selected);
  const cs = state.candles;
  const ns = 'http://www.w3.org/2000/svg';
  svg.replaceChildren();
  if (!m || cs.length === 0) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', '300');
    t.setAttribute('y', '120');
    t.setAttribute('fill', '#7d8590');
    t.setAttribute('text-anchor', 'middle');
    t.textContent = 'no trades yet';
    svg.append(t);
    return;
  }
  // prices are integers; scale in floating point only for drawing
  const hi = Math.max(...cs.map((c) => Number(c.high)));
  const lo = Math.min(...cs.map((c) => Number(c.low)));
  const span = hi - lo || 1;
  const W = 600;
  const H = 240;
  const pad = 14;
  const y = (p) => pad + ((hi - Number(p)) / span) * (H - 2 * pad);
  const w = W / Math.max(cs.length, 30);
  cs.forEach((c, i) => {
    const up = Number(c.close) >= Number(c.open);
    const x = i * w + w / 2;
    const wick = document.createElementNS(ns, 'line');
    wick.setAttribute('x1', String(x));
    wick.setAttribute('x2', String(x));
    wick.setAttribute('y1', String(y(c.high)));
    wick.setAttribute('y2', String(y(c.low)));
    wick.setAttribute('stroke', up ? '#3fb950' : '#f85149');
    const body = document.createElementNS(ns, 'rect');
    const top = Math.min(y(c.open), y(c.close));
    body.setAttribute('x', String(x - w * 0.35));
    body.setAttribute('y', String(top));
    body.setAttribute('width', String(w * 0.7));
    body.setAttribute('height', String(Math.max(1, Math.abs(y(c.open) - y(c.close)))));
    body.setAttribute('fill', up ? '#3fb950' : '#f85149');
    svg.append(wick, body);
  });
  for (const [p, yy] of [[hi, 10], [lo, H - 3]]) {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', String(W - 4));
    t.setAttribute('text-anchor', 'end');
    t.setAttribute('y', String(yy));
    t.setAttribute('fill', '#7d8590');
    t.setAttribute('font-size', '10');
    t.textContent = fmtPrice(m, String(p));
    svg.append(t);
  }
}

function renderRisk(r) {
  $('insurance').textContent = `${fmtUsdc(r.insurance_fund)} USDC`;
  $('bad-debt').textContent = `${fmtUsdc(r.bad_debt)} USDC`;
  $('liq-total').textContent = String(r.liquidations_total);
  $('adl-total').textContent = String(r.adl_total);
  const types = Object.entries(r.liquidation_events);
  $('liq-types').textContent = types.length ? types.map(([k, v]) => `${k}: ${v}`).join(', ') : 'none';
}

window.__perpchainState = state; // for debugging from the console
connect();
