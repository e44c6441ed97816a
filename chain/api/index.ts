/**
 * The trader-facing API: one server for both node modes.
 *
 *   devnet:  startApi({ app, submitter: new MempoolSubmitter(mempool), config: nodeConfig.api })
 *   ABCI:    startAbciApi({ app, config: nodeConfig.api })   (forwards txs to CometBFT's RPC)
 *
 * See README.md beside this file for the protocol.
 */
import { ApiServer } from './server.js';
import { CometRpcSubmitter, type TxSubmitter } from './submitter.js';
import type { ApiApp } from './feed.js';
import type { ApiLimitsConfig } from './limits.js';

export { ApiServer, SERVER_NAME, txResultJson, type ApiServerOptions } from './server.js';
export { Feed, type ApiApp, type BlockUpdate, type EngineLike } from './feed.js';
export { MempoolSubmitter, CometRpcSubmitter, txHashHex, type TxSubmitter, type SubmitResult, type MempoolLike } from './submitter.js';
export { DEFAULT_LIMITS, CLOSE, type ApiLimitsConfig } from './limits.js';

/** The `api` section of config/node.json (chain/devnet/home.ts NodeConfigSchema). */
export interface ApiConfigSection extends ApiLimitsConfig {
  host: string;
  port: number;
  serve_web?: boolean;
  comet_rpc_url?: string;
  enabled?: boolean;
}

export function limitsOf(c: ApiConfigSection): ApiLimitsConfig {
  return {
    max_frame_bytes: c.max_frame_bytes,
    max_subscriptions: c.max_subscriptions,
    max_connections_per_ip: c.max_connections_per_ip,
    max_messages_per_second: c.max_messages_per_second,
    max_messages_per_second_per_ip: c.max_messages_per_second_per_ip,
    heartbeat_ms: c.heartbeat_ms,
    max_buffered_bytes: c.max_buffered_bytes,
    slow_consumer_grace_ms: c.slow_consumer_grace_ms,
    inclusion_timeout_blocks: c.inclusion_timeout_blocks,
  };
}

export async function startApi(o: { app: ApiApp; submitter: TxSubmitter; config: ApiConfigSection; log?: (line: string) => void }): Promise<{ server: ApiServer; address: { host: string; port: number } }> {
  const server = new ApiServer({
    app: o.app,
    submitter: o.submitter,
    host: o.config.host,
    port: o.config.port,
    limits: limitsOf(o.config),
    serveWeb: o.config.serve_web !== false,
    ...(o.log ? { log: o.log } : {}),
  });
  const address = await server.listen();
  return { server, address };
}

/**
 * ABCI mode (`perpchain abci`): the same API next to the ABCI socket. Txs go
 * to CometBFT's broadcast_tx_sync at config.comet_rpc_url; snapshots,
 * deltas and inclusion results come from the blocks CometBFT makes the App
 * commit. Call once after the App is open; close() on shutdown.
 */
export async function startAbciApi(o: { app: ApiApp; config: ApiConfigSection; log?: (line: string) => void }) {
  const submitter = new CometRpcSubmitter({ url: o.config.comet_rpc_url ?? 'http://127.0.0.1:26657' });
  return startApi({ app: o.app, submitter, config: o.config, ...(o.log ? { log: o.log } : {}) });
}
