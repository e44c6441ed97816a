import type { Command } from 'commander';
import { Option } from 'commander';
import { constants } from 'node:buffer';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HomeLock } from '../store/lock.js';
import { Opened } from '../devnet/close-on-failure.js';
import { homePaths, readConfig } from '../devnet/home.js';
import { openNodeApp } from '../devnet/open-app.js';
import { BackgroundMerger } from '../devnet/merger.js';
import { runAbci, DEFAULT_ABCI_ADDR, DEFAULT_MAX_FRAME_BYTES, parseAbciAddr } from '../abci/index.js';
import { startAbciApi } from '../api/index.js';
import { createPriceSource } from '../oracle/sources.js';
import { intArg, portArg, urlArg } from './args.js';

/**
 * `perpchain abci`: serve the App to a CometBFT v0.38 node over the ABCI
 * socket, with the trader API beside it (txs forwarded to CometBFT's RPC)
 * and, when vote extensions are enabled, this validator's oracle prices from
 * --price-source. See docs/cometbft.md.
 */
export function registerAbciCommand(program: Command): void {
  program
    .command('abci')
    .description('serve perpchain to a CometBFT v0.38 node over the ABCI 2.0 socket (plus the WebSocket API); see docs/cometbft.md')
    .requiredOption('--home <dir>', 'node home directory (state in <home>/data/state.db; genesis comes from CometBFT via InitChain)')
    .option('--addr <addr>', 'listen address: tcp://HOST:PORT or unix:///path', DEFAULT_ABCI_ADDR)
    .option('--price-source <spec>', 'this validator\'s prices for vote extensions: file:PATH | dataset:0=btc-2022-11-08,1=eth-2022-11-08 | http://127.0.0.1:PORT/path')
    .addOption(new Option('--comet-rpc <url>', 'CometBFT RPC the API forwards txs to (default config api.comet_rpc_url or http://127.0.0.1:26657)').argParser(urlArg))
    .addOption(new Option('--api-port <port>', 'API port (overrides config/node.json)').argParser(portArg))
    .addOption(new Option('--max-frame-bytes <n>', 'largest ABCI message accepted from CometBFT (raise it for a genesis app_state over 128 MiB)').argParser(intArg(1024, constants.MAX_LENGTH)).default(DEFAULT_MAX_FRAME_BYTES))
    .option('--no-api', 'do not serve the WebSocket API')
    .option('--check-invariants', 'check every module invariant after every block and stop with a report if one breaks')
    .action(async (o: { home: string; addr: string; priceSource?: string; cometRpc?: string; apiPort?: number; maxFrameBytes: number; api: boolean; checkInvariants?: boolean }) => {
      parseAbciAddr(o.addr); // a bad address fails here, before anything is opened or served
      const paths = homePaths(o.home);
      mkdirSync(dirname(paths.db), { recursive: true });
      const lock = HomeLock.acquire(paths.lock);
      // what a failed start must close again, last opened first (the lock too: a retry in this process, or a
      // library caller, must not find the home held by nothing)
      const opened = new Opened();
      try {
        const config = readConfig(paths);
        if (o.checkInvariants) config.check_invariants = true;
        const { app, pool, snapshotter } = openNodeApp(paths, config, opened, (l) => console.error(l));
        if (o.priceSource) {
          const markets = () => app.keepers.perpetuals.markets(app.state).map((m) => ({ id: m.id, ticker: m.ticker, priceExponent: m.priceExponent }));
          app.setOracleSource(createPriceSource(o.priceSource, markets, (l) => console.error(l)));
        }
        let api: { server: { close(): Promise<void> } } | undefined;
        if (o.api && config.api.enabled !== false) {
          const apiConfig = { ...config.api, ...(o.apiPort !== undefined ? { port: o.apiPort } : {}), ...(o.cometRpc ? { comet_rpc_url: o.cometRpc } : {}) };
          api = await startAbciApi({ app, config: apiConfig, log: (l) => console.error(l) });
          opened.add(() => api?.server.close());
          console.error(`API on ws://${apiConfig.host}:${apiConfig.port} (txs forwarded to ${apiConfig.comet_rpc_url ?? 'http://127.0.0.1:26657'})`);
        }
        // Commit appends the change set to the store's log; merge it between blocks, off the consensus path,
        // a slice per event-loop turn so CometBFT's next requests are not kept waiting by a large merge.
        const merger = new BackgroundMerger(app, (l) => console.error(l));
        app.onCommit(() => merger.kick());
        opened.add(() => merger.stop());
        await runAbci({
          app,
          addr: o.addr,
          maxFrameBytes: o.maxFrameBytes,
          beforeAppClose: async () => {
            await merger.stop();
            await snapshotter.stop();
          },
          onShutdown: async () => {
            await api?.server.close();
            await pool.close();
            lock.release();
          },
        });
      } catch (e) {
        await opened.closeAll();
        lock.release();
        throw e;
      }
    });
}
