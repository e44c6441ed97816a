import { CHAIN_ERRORS, type ChainErrorInfo } from './error-codes.js';

export { CHAIN_ERRORS, type ChainErrorInfo };

const byKey = new Map(CHAIN_ERRORS.map((e) => [`${e.codespace}/${e.code}`, e]));

/** The chain's registered error for a (codespace, code) of a tx or query result, if it is one. */
export function chainError(codespace: string, code: number): ChainErrorInfo | undefined {
  return byKey.get(`${codespace}/${code}`);
}

/**
 * A typed chain error: what a CheckTx, a block or a query refused, with the
 * registered name (e.g. `wrong_sequence`, `insufficient_margin`) so callers
 * can branch on `err.name` instead of parsing logs.
 */
export class ChainErrorResult extends Error {
  readonly info: ChainErrorInfo | undefined;
  constructor(
    readonly codespace: string,
    readonly code: number,
    readonly log: string,
  ) {
    const info = chainError(codespace, code);
    super(`${codespace}/${code}${info ? ` ${info.name}` : ''}: ${log || info?.description || 'error'}`);
    this.info = info;
  }

  /** The registered name, e.g. "wrong_sequence". */
  get errorName(): string | undefined {
    return this.info?.name;
  }

  is(codespace: string, name: string): boolean {
    return this.codespace === codespace && this.info?.name === name;
  }
}
