/**
 * A start that fails after it opened things closes them again, so a retry in the same process (a library
 * user, a test) finds the home and the ports free: `perpchain abci` whose ABCI port is taken releases the home
 * lock (with the in-process lock registry it was held "by this process" for good), and a devnet node whose
 * price feeder cannot start closes its API server (the port stayed bound).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initHome, homePaths } from '../../chain/devnet/home.js';
import { DevnetNode } from '../../chain/devnet/node.js';
import { registerAbciCommand } from '../../chain/cli/abci-command.js';
import { HomeLock } from '../../chain/store/lock.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-failed-start-'));
let busy: Server | undefined;
afterAll(() => {
  busy?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
const canListen = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });

describe('a failed start', () => {
  it('perpchain abci on a taken port releases the home lock', async () => {
    const home = join(tmp, 'abci');
    await initHome({ home, chainId: 'failed-start-1', accounts: 1 });
    busy = createServer();
    await new Promise<void>((r) => busy!.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const program = new Command().exitOverride();
    registerAbciCommand(program);
    await expect(program.parseAsync(['node', 'perpchain', 'abci', '--home', home, '--addr', `tcp://127.0.0.1:${port}`, '--no-api'])).rejects.toThrow(/cannot listen/);
    HomeLock.acquire(homePaths(home).lock).release(); // nothing holds the home now
  });

  it('a devnet node whose feeder cannot start closes its API server and frees the home', async () => {
    const home = join(tmp, 'devnet');
    await initHome({ home, chainId: 'failed-start-2', accounts: 1 });
    const paths = homePaths(home);
    const cfg = JSON.parse(readFileSync(paths.config, 'utf8')) as { feeder?: Record<string, unknown> };
    cfg.feeder = { ...(cfg.feeder ?? {}), enabled: true, markets: [{ market_id: 0, dataset: 'no-such-dataset', price_exponent: -5 }] };
    writeFileSync(paths.config, JSON.stringify(cfg));
    const port = await freePort();
    await expect(DevnetNode.start({ home, apiPort: port, apiHost: '127.0.0.1', autoProduce: false, log: () => {} })).rejects.toThrow();
    expect(await canListen(port)).toBe(true);
    HomeLock.acquire(paths.lock).release();
  });
});
