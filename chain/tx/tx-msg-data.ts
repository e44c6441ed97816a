import { cosmos } from '../../proto/gen/cosmos.js';

/** A message's response, packed as an Any (what a message handler returns). */
export interface MsgResponse {
  typeUrl: string;
  value: Uint8Array;
}

/**
 * A tx result's `data`: cosmos TxMsgData{msg_responses}, one Any per message
 * that answered. Byte-identical to cosmjs-types' TxMsgData.encode (which
 * clients decode it with): an empty Any value is left unset, as that encoder
 * omits it; protobufjs would otherwise write an empty field.
 */
export function encodeTxMsgData(responses: readonly MsgResponse[]): Uint8Array {
  const msgResponses = responses.map((r) => {
    const a: { typeUrl: string; value?: Uint8Array } = { typeUrl: r.typeUrl };
    if (r.value.length) a.value = r.value;
    return a;
  });
  return cosmos.tx.v1beta1.TxMsgData.encode({ msgResponses }).finish();
}
