import { describe, expect, it } from 'vitest';
import { PriceCsvError, detectPriceCsvFormat, inferCandleMs, parsePriceCsv, type ParsePriceCsvOptions } from '../../sim/data/index.js';

const K1 = '1584055800000,5050.10,5149.00,4901.55,4927.00,3901.861,1584055859999,19667160.85361,4540,1689.725,8535197.51166,0';
const K2 = '1584055860000,4922.75,4980.50,4681.96,4805.00,4236.036,1584055919999,20355003.53414,4634,2126.891,10235857.85876,0';
const K3 = '1584055920000,4800.00,4980.29,4767.26,4864.01,3396.628,1584055979999,16589623.92643,4101,1847.413,9029912.29069,0';

const CDD_HEAD = 'https://www.CryptoDataDownload.com\nUnix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USDT,tradecount';
const D3 = '1503100800000,2017-08-19,BTCUSDT,4108.37,4184.69,3850.0,4139.98,381.309763,1549483.73542334,2769';
const D2 = '1503014400000,2017-08-18,BTCUSDT,4285.08,4371.52,3938.77,4108.37,1199.888264,5086958.30617151,5233';
const D1 = '1502928000000,2017-08-17,BTCUSDT,4261.48,4485.39,4200.74,4285.08,795.150377,3454770.05073206,3427';

/** Parse and return the PriceCsvError (fails the test if parsing succeeds). */
function errorOf(text: string, opts: ParsePriceCsvOptions = {}): PriceCsvError {
  try {
    parsePriceCsv(text, { source: 'test.csv', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(PriceCsvError);
    return e as PriceCsvError;
  }
  throw new Error('expected a PriceCsvError');
}

describe('parsePriceCsv: valid input', () => {
  it('parses binance klines with exact decimal strings', () => {
    const pts = parsePriceCsv([K1, K2, K3].join('\n') + '\n');
    expect(pts).toEqual([
      { timeMs: 1584055800000, open: '5050.10', high: '5149.00', low: '4901.55', close: '4927.00' },
      { timeMs: 1584055860000, open: '4922.75', high: '4980.50', low: '4681.96', close: '4805.00' },
      { timeMs: 1584055920000, open: '4800.00', high: '4980.29', low: '4767.26', close: '4864.01' },
    ]);
    expect(inferCandleMs(pts)).toBe(60_000);
  });

  it('parses CryptoDataDownload newest-first files into ascending order', () => {
    const pts = parsePriceCsv([CDD_HEAD, D3, D2, D1].join('\n'));
    expect(pts.map((p) => p.timeMs)).toEqual([1502928000000, 1503014400000, 1503100800000]);
    expect(pts[0]).toEqual({ timeMs: 1502928000000, open: '4261.48', high: '4485.39', low: '4200.74', close: '4285.08' });
  });

  it('accepts oldest-first CDD without URL line, unix seconds, and per-row s/ms mixing', () => {
    const text = [
      'unix,date,symbol,open,high,low,close,Volume USD,Volume ETH',
      '1605049200,2020-11-10 23:00:00,ETH/USD,450.1,451,449.5,450.5,1,2',
      '1605052800000,2020-11-11 00:00:00,ETH/USD,450.5,452.25,450,451.99,1,2',
    ].join('\n');
    expect(parsePriceCsv(text).map((p) => p.timeMs)).toEqual([1605049200000, 1605052800000]);
  });

  it('tolerates CRLF, a BOM, trailing blank lines and a kline header line', () => {
    const text = '\uFEFFopen_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n' + K1 + '\r\n' + K2 + '\r\n\r\n\n';
    expect(parsePriceCsv(text)).toHaveLength(2);
  });

  it('detects the format', () => {
    expect(detectPriceCsvFormat(K1)).toBe('binance-kline');
    expect(detectPriceCsvFormat(CDD_HEAD)).toBe('cdd');
    expect(detectPriceCsvFormat('unix,date,symbol,open,high,low,close')).toBe('cdd');
    expect(detectPriceCsvFormat('a;b;c')).toBeUndefined();
    expect(detectPriceCsvFormat('')).toBeUndefined();
  });

  it("drops identical duplicates only with duplicates: 'drop-identical'", () => {
    const text = [CDD_HEAD, D3, D2, D2, D1].join('\n');
    expect(errorOf(text).message).toBe('test.csv:5: duplicate time 2017-08-18T00:00:00Z (also on line 4)');
    expect(parsePriceCsv(text, { duplicates: 'drop-identical' })).toHaveLength(3);
    const conflicting = [CDD_HEAD, D3, D2, D2.replace('4108.37,1199', '4108.38,1199'), D1].join('\n');
    expect(errorOf(conflicting, { duplicates: 'drop-identical' }).line).toBe(5);
  });
});

describe('parsePriceCsv: malformed input names the source and the line', () => {
  const cases: Array<{ name: string; text: string; line: number; msg: RegExp; opts?: ParsePriceCsvOptions }> = [
    { name: 'kline with a missing column', text: [K1, K2.replace(/,0$/, ''), K3].join('\n'), line: 2, msg: /expected 12 columns \(binance kline\), got 11/ },
    { name: 'kline with an extra column', text: [K1, K2, K3 + ',7'].join('\n'), line: 3, msg: /expected 12 columns \(binance kline\), got 13/ },
    { name: 'non-numeric high (letter O)', text: [K1, K2.replace('4980.50', '4980.5O'), K3].join('\n'), line: 2, msg: /high "4980.5O" is not a decimal number/ },
    { name: 'non-numeric close', text: [K1, K2.replace('4805.00', 'abc'), K3].join('\n'), line: 2, msg: /close "abc" is not a decimal number/ },
    { name: 'exponent notation', text: [K1, K2, K3.replace('4864.01', '4.86401e3')].join('\n'), line: 3, msg: /close "4.86401e3" is not a decimal number/ },
    { name: 'non-numeric volume', text: [K1, K2.replace('4236.036', 'NaN')].join('\n'), line: 2, msg: /volume "NaN" \(column 6\) is not a decimal number/ },
    { name: 'non-integer time', text: [K1, K2.replace('1584055860000', '1584055860000.5')].join('\n'), line: 2, msg: /open_time "1584055860000.5" is not a non-negative integer/ },
    { name: 'high < low', text: [K1, K2.replace('4980.50,4681.96', '4681.00,4681.96')].join('\n'), line: 2, msg: /high 4681.00 < low 4681.96/ },
    { name: 'open above high', text: [K1, K2, K3.replace('4800.00', '4990.00')].join('\n'), line: 3, msg: /open 4990.00 outside \[low 4767.26, high 4980.29\]/ },
    { name: 'close below low (exact decimal compare)', text: [K1.replace('4927.00', '4901.549')].join('\n'), line: 1, msg: /close 4901.549 outside/ },
    { name: 'zero price', text: [K1, K2.replace('4681.96', '0.00')].join('\n'), line: 2, msg: /low 0.00 is not positive/ },
    { name: 'duplicate time', text: [K1, K2, K2].join('\n'), line: 3, msg: /duplicate time 2020-03-12T23:31:00Z \(also on line 2\)/ },
    { name: 'time going backwards', text: [K1, K3, K2].join('\n'), line: 3, msg: /time 2020-03-12T23:31:00Z is not after 2020-03-12T23:32:00Z on line 2/ },
    { name: 'close_time before open_time', text: [K1, K2.replace('1584055919999', '1584055800000')].join('\n'), line: 2, msg: /close_time 1584055800000 is not after open_time 1584055860000/ },
    { name: 'mixed candle intervals', text: [K1, K2.replace('1584055919999', '1584055979999')].join('\n'), line: 2, msg: /close_time - open_time = 119999, but 59999 on line 1/ },
    { name: 'empty line in the middle', text: [K1, '', K2].join('\n'), line: 2, msg: /empty line/ },
    { name: 'CDD row with a missing column (URL line counts)', text: [CDD_HEAD, D3, D2.replace(',5233', ''), D1].join('\n'), line: 4, msg: /expected 10 columns \(as in the header on line 2\), got 9/ },
    { name: 'CDD newest-first order broken', text: [CDD_HEAD, D3, D1, D2].join('\n'), line: 5, msg: /is not before .* on line 4 \(rows must be strictly decreasing in time\)/ },
    { name: 'CDD date column disagrees with unix', text: [CDD_HEAD, D3, D2.replace('2017-08-18', '2017-08-19')].join('\n'), line: 4, msg: /date 2017-08-19 does not match unix time 1503014400000 \(= 2017-08-18T00:00:00Z\)/ },
    { name: 'CDD header without a close column', text: ['unix,date,open,high,low', '1,2,3,4,5'].join('\n'), line: 1, msg: /header lacks column\(s\) close/ },
    { name: 'CDD header only', text: CDD_HEAD, line: 2, msg: /no data rows after the header/ },
    { name: 'kline header only', text: 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n', line: 1, msg: /no data rows after the header/ },
    { name: 'unknown format', text: 'time;open;high\n1;2;3', line: 1, msg: /cannot detect the format/ },
    { name: 'empty text', text: '\n\n', line: 1, msg: /no data/ },
    { name: 'forced wrong format', text: [K1, K2].join('\n'), line: 1, msg: /header lacks column\(s\) unix, open, high, low, close/, opts: { format: 'cdd' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = errorOf(c.text, c.opts);
      expect(e.source).toBe('test.csv');
      expect(e.line).toBe(c.line);
      expect(e.message.startsWith(`test.csv:${c.line}: `)).toBe(true);
      expect(e.message).toMatch(c.msg);
    });
  }

  it('uses a default source name', () => {
    expect(() => parsePriceCsv([K1, K1].join('\n'))).toThrow(/^<price csv>:2: duplicate time/);
  });
});
