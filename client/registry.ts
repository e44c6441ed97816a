import { Registry, type GeneratedType } from '@cosmjs/proto-signing';
import { perpchain } from '../proto/gen/perpchain.js';

/**
 * Type URL → protobuf type of every message a trader can sign. A stock cosmjs
 * Registry built from this list signs transactions perpchain accepts.
 */
export const perpchainTypes: ReadonlyArray<[string, GeneratedType]> = [
  ['/perpchain.bank.v1.MsgSend', perpchain.bank.v1.MsgSend as unknown as GeneratedType],
];

export function createRegistry(): Registry {
  return new Registry([...perpchainTypes]);
}
