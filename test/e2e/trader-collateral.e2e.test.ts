/**
 * The SDK Trader's collateral moves against a real devnet node: transfer between the owner's own subaccounts
 * and to another owner's, send from the bank balance to an address, and what is refused: an amount that is not
 * whole uusdc before anything is signed, a transfer to the same subaccount and one the source cannot afford by
 * the chain, nothing moved in either case.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PerpchainClient, Trader, TxError, UnitsError } from '../../client/index.js';
import { startTestNode, waitFor, type TestNode } from './node.js';

describe('Trader transfer and send', () => {
  let t: TestNode;
  let c: PerpchainClient;
  let alice: Trader;
  const collateral = async (owner: string, n: number) => BigInt((await c.subaccount(owner, n)).collateral);
  const balance = async (address: string) => BigInt((await c.query<{ amount: string }>(`bank/balance/${address}`)).amount);

  beforeAll(async () => {
    t = await startTestNode({ blockIntervalMs: 20, accounts: 3 });
    await waitFor(() => t.node.app.height >= 2, 10_000, 'first blocks');
    c = await PerpchainClient.connect({ url: t.url });
    alice = await Trader.create({ client: c, signer: t.keys[1]! });
    await alice.deposit('1000');
  });

  afterAll(async () => {
    c?.close();
    await t?.stop();
  });

  it('moves collateral to the owner\'s other subaccount and to another owner\'s', async () => {
    const bob = t.keys[2]!.address;
    const inc = await alice.transfer('250.5', { subaccount: 3 });
    expect(inc.code).toBe(0);
    expect(await collateral(alice.address, 0)).toBe(749_500_000n);
    expect(await collateral(alice.address, 3)).toBe(250_500_000n);
    await alice.transfer('0.000001', { owner: bob, subaccount: 1 });
    expect(await collateral(bob, 1)).toBe(1n);
    expect(await collateral(alice.address, 0)).toBe(749_499_999n);
  });

  it('sends from the bank balance; the fee is paid from it too', async () => {
    const to = t.keys[0]!.address;
    const [before, toBefore] = [await balance(alice.address), await balance(to)];
    const inc = await alice.send(to, '12.34');
    expect(await balance(to)).toBe(toBefore + 12_340_000n);
    const fee = before - 12_340_000n - (await balance(alice.address));
    expect(fee).toBeGreaterThan(0n);
    expect(BigInt(inc.gas_used)).toBeGreaterThan(0n);
  });

  it('refuses what cannot be done, and nothing moves', async () => {
    const before = await collateral(alice.address, 0);
    await expect(alice.transfer('0.0000001', { subaccount: 1 })).rejects.toBeInstanceOf(UnitsError);
    await expect(alice.send(t.keys[0]!.address, '-1')).rejects.toBeInstanceOf(UnitsError);
    const same = await alice.transfer('1', { subaccount: 0 }).catch((e: unknown) => e);
    expect(same).toBeInstanceOf(TxError);
    expect((same as TxError).message).toMatch(/same subaccount/);
    const tooMuch = await alice.transfer('1000000', { subaccount: 1 }).catch((e: unknown) => e);
    expect(tooMuch).toBeInstanceOf(TxError);
    expect(await collateral(alice.address, 0)).toBe(before);
  });
});
