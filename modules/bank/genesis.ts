import { z } from 'zod';
import { addressProblem } from '../../chain/codec/address.js';
import { parseAmount } from '../../chain/codec/amount.js';
import { ErrInvalidGenesis } from './errors.js';

export const BankGenesisSchema = z.strictObject({
  params: z.strictObject({ send_enabled: z.boolean() }).partial().optional(),
  balances: z.array(z.strictObject({ address: z.string(), amount: z.string() })).default([]),
  /** Optional; when given it must equal Σ balances. */
  supply: z.string().optional(),
});

export type BankGenesisJson = z.input<typeof BankGenesisSchema>;

export function parseBankGenesis(json: unknown) {
  const r = BankGenesisSchema.safeParse(json ?? {});
  if (!r.success) throw ErrInvalidGenesis(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  const seen = new Set<string>();
  let total = 0n;
  const balances = r.data.balances.map((b, i) => {
    const p = addressProblem(b.address);
    if (p) throw ErrInvalidGenesis(`balances[${i}]: ${p}`);
    if (seen.has(b.address)) throw ErrInvalidGenesis(`balances[${i}]: duplicate address ${b.address}`);
    seen.add(b.address);
    const a = parseAmount(b.amount, `balances[${i}].amount`);
    if (!a.ok) throw ErrInvalidGenesis(a.reason);
    total += a.value;
    return { address: b.address, amount: a.value };
  });
  if (r.data.supply !== undefined && BigInt(r.data.supply) !== total) {
    throw ErrInvalidGenesis(`supply ${r.data.supply} does not equal the sum of balances ${total}`);
  }
  return { params: { sendEnabled: r.data.params?.send_enabled ?? true }, balances };
}
