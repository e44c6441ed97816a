import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { renderClientErrors } from '../../scripts/gen-client-errors.js';
import { chainError, ChainErrorResult } from '../../client/errors.js';

describe('client error table', () => {
  it('matches the chain registry (regenerate with node --import tsx scripts/gen-client-errors.ts)', () => {
    expect(readFileSync(new URL('../../client/error-codes.ts', import.meta.url), 'utf8')).toBe(renderClientErrors());
  });
  it('names errors', () => {
    expect(chainError('tx', 12)?.name).toBe('wrong_sequence');
    expect(chainError('clob', 15)?.name).toBe('insufficient_margin');
    const e = new ChainErrorResult('tx', 12, 'account sequence mismatch: expected 3, got 2');
    expect(e.is('tx', 'wrong_sequence')).toBe(true);
    expect(e.errorName).toBe('wrong_sequence');
  });
});
