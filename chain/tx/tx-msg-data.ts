import { cosmos } from '../../proto/gen/cosmos.js';

/** A message's response, packed as an Any (what a message handler returns). */
export interface MsgResponse {
  typeUrl: string;
  value: Uint8Array;
}

/**
 * A tx result's `data`: cosmos TxMsgData{msg_responses}, one Any per message
 * that answered. Byte-identical to cosmjs-types' TxMsgData.encode (which
 * clients decode it with; see anyForEncoding).
 */
export function encodeTxMsgData(responses: readonly MsgResponse[]): Uint8Array {
  return cosmos.tx.v1beta1.TxMsgData.encode({ msgResponses: responses.map(anyForEncoding) }).finish();
}

/**
 * An Any for the protobufjs encoders, written as cosmjs-types writes it: the
 * value only when it is not empty (protobufjs writes every field that is set,
 * cosmjs-types omits proto3 defaults).
 */
export function anyForEncoding(a: MsgResponse): cosmos.tx.v1beta1.IAny {
  return a.value.length ? { typeUrl: a.typeUrl, value: a.value } : { typeUrl: a.typeUrl };
}
