/**
 * chain/devnet/close-on-failure.ts (Opened) and what a failed start closes with it (mutation round): last
 * opened first, each closer awaited before the next, a closer's error swallowed without skipping the rest,
 * nothing closed twice; and a failed `perpchain abci` / devnet start closes its App and verify pool, not only
 * the home lock and the API port.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Opened } from '../../chain/devnet/close-on-failure.js';
import { initHome, homePaths } from '../../chain/devnet/home.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { registerAbciCommand } from '../../chain/cli/abci-command.js';
import { App } from '../../chain/app.js';
import { VerifyPool } from '../../chain/crypto/verify-pool.js';
import { HomeLock } from '../../chain/store/lock.js';

describe('Opened', () => {
  it('closes last opened first, each awaited before the next, and a failing closer does not stop the rest', async () => {
    const log: string[] = [];
    const o = new Opened();
    o.add(() => log.push('pool'));
    o.add(async () => {
      await new Promise((r) => setTimeout(r, 20));
      log.push('app');
    });
    o.add(() => {
      throw new Error('api close failed');
    });
    o.add(() => Promise.reject(new Error('merger stop failed')));
    o.add(() => log.push('last'));
    await expect(o.closeAll()).resolves.toBeUndefined();
    expect(log).toEqual(['last', 'app', 'pool']);
  });

  it('closes each thing once: a second closeAll does nothing, and what is added after it is closed by the next', async () => {
    let n = 0;
    const o = new Opened();
    o.add(() => n++);
    await o.closeAll();
    await o.closeAll();
    expect(n).toBe(1);
    o.add(() => (n += 10));
    await o.closeAll();
    expect(n).toBe(11);
  });
});

describe('a failed start closes its App and verify pool', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-close-on-failure-'));
  let busy: Server | undefined;
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => {
    busy?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('perpchain abci on a taken port', async () => {
    const home = join(tmp, 'abci');
    await initHome({ home, chainId: 'close-on-failure-1', accounts: 1 });
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const appClose = vi.spyOn(App.prototype, 'close');
    const poolClose = vi.spyOn(VerifyPool.prototype, 'close');
    const program = new Command().exitOverride();
    registerAbciCommand(program);
    await expect(program.parseAsync(['node', 'perpchain', 'abci', '--home', home, '--addr', `tcp://127.0.0.1:${port}`, '--no-api'])).rejects.toThrow(/cannot listen/);
    expect(appClose).toHaveBeenCalledTimes(1);
    expect(poolClose).toHaveBeenCalledTimes(1);
    // the App closed before the pool it verifies with (last opened first)
    expect(appClose.mock.invocationCallOrder[0]!).toBeLessThan(poolClose.mock.invocationCallOrder[0]!);
    HomeLock.acquire(homePaths(home).lock).release();
  });

  it('a devnet node whose feeder cannot start', async () => {
    const home = join(tmp, 'devnet');
    await initHome({ home, chainId: 'close-on-failure-2', accounts: 1 });
    const paths = homePaths(home);
    const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as { feeder?: Record<string, unknown> };
    cfg.feeder = { ...(cfg.feeder ?? {}), enabled: true, markets: [{ market_id: 0, dataset: 'no-such-dataset', price_exponent: -5 }] };
    writeFileSync(paths.config, JSON.stringify(cfg));
    const appClose = vi.spyOn(App.prototype, 'close');
    const poolClose = vi.spyOn(VerifyPool.prototype, 'close');
    await expect(DevnetNode.start({ home, apiPort: 0, apiHost: '127.0.0.1', autoProduce: false, log: () => {} })).rejects.toThrow();
    expect(appClose).toHaveBeenCalledTimes(1);
    expect(poolClose).toHaveBeenCalledTimes(1);
    expect(appClose.mock.invocationCallOrder[0]!).toBeLessThan(poolClose.mock.invocationCallOrder[0]!);
    HomeLock.acquire(paths.lock).release();
  });
});
