import type { Ctx } from '../../chain/context.js';

/** What bank needs from auth: a recipient gets an account when it first receives funds. */
export interface AccountKeeper {
  ensureAccount(ctx: Pick<Ctx, 'store' | 'events'>, address: string): unknown;
}
