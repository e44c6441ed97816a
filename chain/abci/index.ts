/**
 * ABCI 2.0 socket server (CometBFT v0.38): the driver that lets a CometBFT
 * node run perpchain. See README.md in this folder for the protocol rules it
 * follows.
 *
 *   const app = App.open({ dbPath, verifyPool: new VerifyPool() });
 *   const server = await startAbciServer({ app, addr: 'tcp://127.0.0.1:26658' });
 *   ...
 *   await server.close();
 */
export {
  startAbciServer,
  parseAbciAddr,
  stderrLogger,
  DEFAULT_ABCI_ADDR,
  type AbciServer,
  type AbciServerOptions,
  type ListenAddr,
} from './server.js';
export { runAbci, type RunAbciOptions } from './main.js';
export { type AbciApp, type AbciLogger, type LogLevel } from './handler.js';
export { DEFAULT_MAX_FRAME_BYTES, FrameDecoder, FrameError, encodeFrame, readUvarint, putUvarint, uvarintSize } from './framing.js';
export { MERKLE_PROOF_OP, type Misbehavior, type BlockExtras } from './codec.js';
