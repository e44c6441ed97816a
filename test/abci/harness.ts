/**
 * Shared pieces of the ABCI tests: temp homes, a server with a captured log,
 * request builders in cosmjs-types shapes, and tx corruptions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';
import { BlockIDFlag } from 'cosmjs-types/tendermint/types/validator';
import type { RequestFinalizeBlock, RequestInitChain, RequestPrepareProposal, RequestProcessProposal, Response } from 'cosmjs-types/tendermint/abci/types';
import type { Timestamp } from 'cosmjs-types/google/protobuf/timestamp';
import { App, DEFAULT_CONSENSUS_PARAMS } from '../../chain/app.js';
import { startAbciServer, type AbciServer, type AbciServerOptions } from '../../chain/abci/index.js';
import { GENESIS_TIME_NS, TEST_CHAIN_ID, TestChain } from '../helpers/chain.js';
import type { TestKey } from '../helpers/keys.js';
import type { AbciTestClient } from './client.js';

export interface LogLine {
  level: string;
  message: string;
}

export async function startTestServer(o: Omit<AbciServerOptions, 'log'> & { print?: boolean }): Promise<{ server: AbciServer; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const server = await startAbciServer({
    addr: 'tcp://127.0.0.1:0',
    ...o,
    log: (level, message) => {
      logs.push({ level, message });
      if (o.print) console.log(level, message);
    },
  });
  return { server, logs };
}

export function tempDir(prefix = 'perpchain-abci-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function ts(ns: bigint): Timestamp {
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}

/** Block time of height h in the tests: genesis + h seconds. */
export function blockTimeNs(h: bigint): bigint {
  return GENESIS_TIME_NS + h * 1_000_000_000n;
}

/** One ed25519 genesis validator (CometBFT's default key type). */
export const VALIDATOR = {
  pubKey: Buffer.alloc(32, 7),
  address: Buffer.alloc(20, 0xab),
  power: 10n,
};

/** The InitChain CometBFT sends for a genesis with this app_state and the App's default params. */
export function initChainRequest(appState: Record<string, unknown>, o: { chainId?: string; maxGas?: bigint } = {}): Partial<RequestInitChain> {
  return {
    time: ts(GENESIS_TIME_NS),
    chainId: o.chainId ?? TEST_CHAIN_ID,
    consensusParams: {
      block: { maxBytes: DEFAULT_CONSENSUS_PARAMS.block.maxBytes, maxGas: o.maxGas ?? DEFAULT_CONSENSUS_PARAMS.block.maxGas },
      evidence: { maxAgeNumBlocks: 100_000n, maxAgeDuration: { seconds: 172_800n, nanos: 0 }, maxBytes: 1_048_576n },
      validator: { pubKeyTypes: ['ed25519'] },
      version: { app: 1n },
      abci: { voteExtensionsEnableHeight: DEFAULT_CONSENSUS_PARAMS.abci.voteExtensionsEnableHeight },
    },
    validators: [{ pubKey: { ed25519: VALIDATOR.pubKey }, power: VALIDATOR.power }],
    appStateBytes: Buffer.from(JSON.stringify(appState)),
    initialHeight: 1n,
  };
}

/**
 * The in-process reference: a TestChain (keys, sequences, signing helpers)
 * whose App got exactly the InitChain the socket side gets from
 * initChainRequest (same genesis, params and validators).
 */
export function referenceChain(o: { keys: TestKey[]; balance: bigint }): TestChain {
  const chain = TestChain.create({ keys: o.keys, balance: o.balance });
  chain.app.close();
  chain.reopen(App.open({}));
  chain.app.initChain(appInitChain(chain.appState));
  return chain;
}

/** initChainRequest in the App's own types. */
export function appInitChain(appState: Record<string, unknown>) {
  return {
    chainId: TEST_CHAIN_ID,
    timeNs: GENESIS_TIME_NS,
    initialHeight: 1n,
    appStateBytes: Buffer.from(JSON.stringify(appState)),
    consensusParams: DEFAULT_CONSENSUS_PARAMS,
    validators: [{ pubKeyType: 'ed25519' as const, pubKeyBytes: VALIDATOR.pubKey, power: VALIDATOR.power }],
  };
}

function lastCommit(h: bigint) {
  return h > 1n ? { round: 0, votes: [{ validator: { address: VALIDATOR.address, power: VALIDATOR.power }, blockIdFlag: BlockIDFlag.BLOCK_ID_FLAG_COMMIT }] } : { round: 0, votes: [] };
}

export function blockHash(h: bigint): Buffer {
  const b = Buffer.alloc(32);
  b.writeBigUInt64BE(h, 24);
  return b;
}

export function prepareRequest(h: bigint, txs: Uint8Array[], maxTxBytes = 4_000_000n): Partial<RequestPrepareProposal> {
  const lc = lastCommit(h);
  return {
    maxTxBytes,
    txs,
    localLastCommit: { round: lc.round, votes: lc.votes.map((v) => ({ ...v, voteExtension: new Uint8Array(), extensionSignature: new Uint8Array() })) },
    misbehavior: [],
    height: h,
    time: ts(blockTimeNs(h)),
    nextValidatorsHash: Buffer.alloc(32, 1),
    proposerAddress: VALIDATOR.address,
  };
}

export function processRequest(h: bigint, txs: Uint8Array[]): Partial<RequestProcessProposal> {
  return { txs, proposedLastCommit: lastCommit(h), misbehavior: [], hash: blockHash(h), height: h, time: ts(blockTimeNs(h)), nextValidatorsHash: Buffer.alloc(32, 1), proposerAddress: VALIDATOR.address };
}

export function finalizeRequest(h: bigint, txs: Uint8Array[]): Partial<RequestFinalizeBlock> {
  return { txs, decidedLastCommit: lastCommit(h), misbehavior: [], hash: blockHash(h), height: h, time: ts(blockTimeNs(h)), nextValidatorsHash: Buffer.alloc(32, 1), proposerAddress: VALIDATOR.address };
}

/** The in-process FinalizeBlock request for the same block (App types). */
export function appFinalize(h: bigint, txs: Uint8Array[]) {
  return { txs, height: h, timeNs: blockTimeNs(h), hash: blockHash(h), proposerAddress: VALIDATOR.address };
}

/** Same tx with one bit of its signature flipped. */
export function corruptSignature(tx: Uint8Array): Uint8Array {
  const raw = TxRaw.decode(tx);
  const sig = Buffer.from(raw.signatures[0]!);
  sig[10] = sig[10]! ^ 0x01;
  return TxRaw.encode({ ...raw, signatures: [sig] }).finish();
}

/** Deterministic pseudo-random numbers (tests must not depend on Math.random). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function hex(b: Uint8Array | undefined): string {
  return Buffer.from(b ?? []).toString('hex');
}

export function expectKind(r: Response, kind: keyof Response): void {
  if (r[kind] === undefined) {
    const got = Object.entries(r).find(([, v]) => v !== undefined);
    throw new Error(`expected ${String(kind)}, got ${got ? `${got[0]} ${JSON.stringify(got[1], (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}` : 'an empty response'}`);
  }
}

/** Info over a connection: [height, app hash hex]. */
export async function infoOf(c: AbciTestClient): Promise<[bigint, string]> {
  const r = await c.call({ info: { version: '0.38.25', blockVersion: 11n, p2pVersion: 8n, abciVersion: '2.0.0' } });
  expectKind(r, 'info');
  return [r.info!.lastBlockHeight, hex(r.info!.lastBlockAppHash)];
}
