/**
 * Process-level entry for `perpchain abci`: serve an already opened App over
 * ABCI until SIGINT/SIGTERM, then close the server and the App and exit.
 * The CLI opens the App from the node home (and its verify pool) and calls
 * runAbci; everything protocol-related lives in the server.
 */
import type { App } from '../app.js';
import { startAbciServer, stderrLogger, type AbciServer, type AbciServerOptions } from './server.js';

export interface RunAbciOptions extends Omit<AbciServerOptions, 'app'> {
  /** The App to serve; runAbci closes it on shutdown. */
  app: App;
  /** Install SIGINT/SIGTERM handlers that stop cleanly and exit the process (default true). */
  handleSignals?: boolean;
  /** Called after the server is closed and before the App is (e.g. stop background work that uses the App's store). */
  beforeAppClose?: () => void | Promise<void>;
  /** Called after the server and the App are closed, before process.exit (e.g. release the home lock, stop the verify pool). */
  onShutdown?: () => void | Promise<void>;
}

export async function runAbci(opts: RunAbciOptions): Promise<AbciServer> {
  const log = opts.log ?? stderrLogger();
  const { app, handleSignals = true, beforeAppClose, onShutdown, ...serverOpts } = opts;
  const info = app.info();
  log('info', `perpchain ${info.version}: chain "${app.chainId || '(no InitChain yet)'}" at height ${info.lastBlockHeight}, app hash ${Buffer.from(info.lastBlockAppHash).toString('hex').toUpperCase() || '(none)'}`);
  const server = await startAbciServer({ ...serverOpts, app, log });
  if (handleSignals) {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log('info', `${signal}: stopping the ABCI server (committed height ${app.height})`);
      void (async () => {
        let code = 0;
        try {
          await server.close();
          await beforeAppClose?.();
          app.close();
          await onShutdown?.();
        } catch (e) {
          log('error', `shutdown: ${(e as Error).message}`);
          code = 1;
        }
        process.exit(code);
      })();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  return server;
}
