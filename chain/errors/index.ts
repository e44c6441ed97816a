/**
 * Registered, typed errors. Every rejection the chain can give is an ErrorDef
 * (codespace, code, name, description) registered once at import time; a
 * ChainError is one occurrence with a human detail. They map 1:1 onto ABCI
 * code/codespace/log, and the client SDK mirrors the table (client/errors.ts).
 */
export interface ErrorDef {
  readonly codespace: string;
  readonly code: number;
  readonly name: string;
  readonly description: string;
  /** Build an error occurrence; `detail` says what exactly was wrong, for a person. */
  (detail?: string): ChainError;
  /** True when `e` is an occurrence of this definition. */
  is(e: unknown): e is ChainError;
}

export class ChainError extends Error {
  constructor(
    readonly def: ErrorDef,
    readonly detail: string | undefined,
  ) {
    super(detail ? `${def.description}: ${detail}` : def.description);
    this.name = `ChainError(${def.codespace}/${def.code} ${def.name})`;
  }
  get codespace(): string {
    return this.def.codespace;
  }
  get code(): number {
    return this.def.code;
  }
}

const registry = new Map<string, ErrorDef>();

export function registerError(codespace: string, code: number, name: string, description: string): ErrorDef {
  if (!Number.isInteger(code) || code < 1) throw new Error(`error code must be a positive integer: ${codespace}/${code}`);
  const id = `${codespace}/${code}`;
  if (registry.has(id)) throw new Error(`error ${id} registered twice (${registry.get(id)!.name} and ${name})`);
  const def = Object.assign((detail?: string) => new ChainError(def, detail), {
    codespace,
    code,
    description,
    is: (e: unknown): e is ChainError => e instanceof ChainError && e.def === def,
  }) as unknown as ErrorDef;
  Object.defineProperty(def, 'name', { value: name });
  registry.set(id, def);
  return def;
}

export function lookupError(codespace: string, code: number): ErrorDef | undefined {
  return registry.get(`${codespace}/${code}`);
}

export function registeredErrors(): ErrorDef[] {
  return [...registry.values()].sort((a, b) => (a.codespace === b.codespace ? a.code - b.code : a.codespace < b.codespace ? -1 : 1));
}

/** Codespace of errors that are not any module's: internal failures. */
export const ErrInternal = registerError('perpchain', 1, 'internal', 'internal error');
