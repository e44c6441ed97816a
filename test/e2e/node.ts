/**
 * A real devnet node for end-to-end tests: a temp home from initHome (test
 * keys funded, the markets of chain/devnet/markets.ts, a long oracle
 * staleness so orders stay accepted), DevnetNode.start on port 0, and the
 * API limits given.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initHome, homePaths } from '../../chain/devnet/home.js';
import { marketsAppState } from '../../chain/devnet/markets.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { TestKey, testKeys } from '../helpers/keys.js';

export interface TestNode {
  node: DevnetNode;
  url: string;
  httpUrl: string;
  keys: TestKey[];
  feeder: TestKey;
  home: string;
  stop(): Promise<void>;
}

export async function startTestNode(o: { accounts?: number; blockIntervalMs?: number; autoProduce?: boolean; api?: Record<string, unknown>; log?: boolean } = {}): Promise<TestNode> {
  const home = mkdtempSync(join(tmpdir(), 'perpchain-e2e-'));
  const keys = testKeys(o.accounts ?? 4, 'e2e');
  const feeder = new TestKey('e2e-feeder');
  const markets = marketsAppState(keys[0]!.address, [feeder.address]) as { prices: { params: Record<string, unknown> } };
  markets.prices.params.staleness_seconds = '1000000';
  await initHome({
    home,
    chainId: 'perpchain-e2e-1',
    accounts: 1,
    appState: { bank: { balances: [...keys, feeder].map((k) => ({ address: k.address, amount: '1000000000000' })) }, ...markets },
  });
  const paths = homePaths(home);
  const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as { api: Record<string, unknown>; feeder?: Record<string, unknown> };
  cfg.api = { ...cfg.api, ...(o.api ?? {}) };
  // fixed oracle prices: no historic-data price replay in these tests
  cfg.feeder = { ...(cfg.feeder ?? {}), enabled: false };
  writeFileSync(paths.config, JSON.stringify(cfg, null, 2));
  const node = await DevnetNode.start({
    home,
    apiPort: 0,
    blockIntervalMs: o.blockIntervalMs ?? 20,
    autoProduce: o.autoProduce ?? true,
    log: o.log ? (l) => console.log(l) : () => {},
  });
  const url = `ws://127.0.0.1:${node.apiAddress.port}`;
  return {
    node,
    url,
    httpUrl: `http://127.0.0.1:${node.apiAddress.port}`,
    keys,
    feeder,
    home,
    async stop() {
      await node.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
