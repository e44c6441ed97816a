/**
 * The client SDK in a browser. A trader's web page bundles client/ with a
 * stock cosmjs DirectSecp256k1HdWallet (test/e2e/sdk-browser/entry.ts):
 * 1. the bundle must build for the browser with no Node built-in (esbuild,
 *    platform "browser", fails on any `node:` import); this runs everywhere;
 * 2. in headless Chromium (skipped, saying why, without /usr/bin/chromium),
 *    the page signs a deposit, an order and a cancel with the HD wallet over
 *    the page's own WebSocket, and the node, asked from Node, agrees.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerpchainClient, Trader } from '../../client/index.js';
import { launchBrowser, type Browser } from './browser.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'sdk-browser', 'entry.ts');
// a fixed, public development mnemonic (the BIP-39 test vector): never fund it anywhere real
const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

async function bundle(): Promise<string> {
  const r = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', write: false, logLevel: 'silent' });
  return r.outputFiles[0]!.text;
}

describe('the client SDK bundles for the browser', () => {
  it('esbuild (platform browser) builds the SDK with a cosmjs wallet, and the bundle names no Node built-in', async () => {
    const js = await bundle();
    expect(js).toContain('runTrader');
    expect(js).not.toMatch(/["']node:[a-z_]+["']/);
    expect(js).not.toMatch(/require\(["'](crypto|fs|net|http|zlib)["']\)/);
  }, 60_000);
});

const launched = await launchBrowser();
if (launched.skipped) console.warn(`[sdk-browser.e2e] SKIPPED the in-page part: ${launched.skipped}`);

describe.skipIf(!launched.browser)('a stock cosmjs HD wallet signs in headless Chromium with the SDK', () => {
  let t: TestNode;
  let browser: Browser;
  let page: Server;
  let pageUrl = '';
  let address = '';

  beforeAll(async () => {
    browser = launched.browser!;
    t = await startTestNode({ blockIntervalMs: 30 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    const js = await bundle();
    // the page comes from its own origin, as a trader's site would; the node's API is another origin
    page = createServer((req, res) => {
      if (req.url === '/sdk.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else res.writeHead(200, { 'content-type': 'text/html' }).end(
          '<!doctype html><meta charset="utf-8"><title>sdk</title>' +
            '<script>window.loadErrors = []; addEventListener("error", (e) => loadErrors.push(String(e.message)));</script>' +
            '<script src="/sdk.js"></script>',
        );
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`;
    // fund the HD wallet's address from a funded key, from Node
    address = (await (await DirectSecp256k1HdWallet.fromMnemonic(MNEMONIC, { prefix: 'perp' })).getAccounts())[0]!.address;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (page) await new Promise((r) => page.close(r));
    await t?.stop();
  });

  it('deposits, rests and cancels an order from the page; the node agrees', async () => {
    const funder = await PerpchainClient.connect({ url: t.url });
    try {
      const f = await Trader.create({ client: funder, signer: t.keys[1]! });
      await f.execute([{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: t.keys[1]!.address, toAddress: address, amount: '1000000000' } }], 200_000n);

      const p = await browser.open(pageUrl);
      // (the driver may hand the page over before its scripts ran)
      await waitFor(async () => p.evaluate<boolean>(`typeof runTrader === 'function' || (window.loadErrors?.length ?? 0) > 0`), 15_000, 'the bundle to load');
      expect(await p.evaluate<string[]>('loadErrors')).toEqual([]);
      const r = await p.evaluate<{
        address: string; depositHeight: number; depositHash: string; emptyHash: string; orderId: string; status: string;
        openAfterPlace: string[]; openAfterCancel: number; collateral: string; nativeWebSocket: boolean;
      }>(`runTrader(${JSON.stringify(t.url)}, ${JSON.stringify(MNEMONIC)})`);

      expect(r.nativeWebSocket).toBe(true);
      expect(r.address).toBe(address);
      expect(r.emptyHash).toBe('E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855');
      expect(r.status).toBe('resting');
      expect(r.openAfterPlace).toEqual([r.orderId]);
      expect(r.openAfterCancel).toBe(0);
      expect(r.collateral).toBe('250000000');
      // the node, asked from Node: the deposit is in a block under the hash the page computed, and the order is gone
      const inc = await funder.waitTx(r.depositHash);
      expect(inc.status).toBe('included');
      expect(inc.status === 'included' && inc.height).toBe(r.depositHeight);
      expect((await funder.subaccount(address)).collateral).toBe('250000000');
      expect(await funder.orders(address)).toEqual([]);
    } finally {
      funder.close();
    }
  }, 60_000);
});
