/**
 * Blocks on a line-based wire, for the instances that run in other processes
 * (replica and crash children) and for block files:
 *
 *   init <base64 JSON InitChainRequest>
 *   block <base64 perpchain.node.v1.BlockRecord>     (the node's own block-log encoding)
 *   end
 *
 * and the digest both sides compute of a FinalizeBlock result, so a replica
 * can report "height, app hash, digest of every tx result and event" in one
 * line.
 */
import { createHash } from 'node:crypto';
import { decodeBlockRecord, encodeBlockRecord } from '../../../chain/app.js';
import type { FinalizeBlockRequest, FinalizeBlockResult, InitChainRequest } from '../../../chain/types.js';

export function initLine(r: InitChainRequest): string {
  const j = { chainId: r.chainId, timeNs: r.timeNs.toString(), initialHeight: r.initialHeight.toString(), appState: Buffer.from(r.appStateBytes).toString('base64') };
  return `init ${Buffer.from(JSON.stringify(j)).toString('base64')}`;
}

export function parseInitLine(line: string): InitChainRequest {
  const j = JSON.parse(Buffer.from(line.slice(5), 'base64').toString()) as { chainId: string; timeNs: string; initialHeight: string; appState: string };
  return { chainId: j.chainId, timeNs: BigInt(j.timeNs), initialHeight: BigInt(j.initialHeight), appStateBytes: Buffer.from(j.appState, 'base64') };
}

export function blockLine(r: FinalizeBlockRequest): string {
  return `block ${Buffer.from(encodeBlockRecord(r, new Uint8Array())).toString('base64')}`;
}

export function parseBlockLine(line: string): FinalizeBlockRequest {
  const r = decodeBlockRecord(Buffer.from(line.slice(6), 'base64'));
  return { txs: r.txs, height: r.height, timeNs: r.timeNs, hash: r.hash, proposerAddress: r.proposerAddress };
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** sha256 over every consensus-relevant part of a block's result (codes, logs, gas, data, events), hex. */
export function resultDigest(r: FinalizeBlockResult): string {
  const h = createHash('sha256');
  h.update(r.appHash);
  for (const t of r.txResults) {
    h.update(`${t.code}/${t.codespace}/${t.gasWanted}/${t.gasUsed}/${t.log}/`);
    h.update(t.data);
    h.update(JSON.stringify(t.events));
  }
  h.update(JSON.stringify(r.events));
  return h.digest('hex').slice(0, 32).toUpperCase();
}
