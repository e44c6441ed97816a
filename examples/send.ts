/**
 * Send uusdc between two development accounts of a running devnet and print
 * the inclusion result: the smallest complete use of the SDK.
 *
 *   npm start                      # terminal 1: the devnet (ws://127.0.0.1:8090, home ./.perpchain)
 *   npm run example:send           # terminal 2: dev0 sends 1.5 USDC to dev1
 *   npm run example:send -- --from dev2 --to dev3 --amount 2500000
 *
 * Options: --url (default ws://127.0.0.1:8090), --home (default ./.perpchain),
 * --from / --to (account names in <home>/keys/dev-accounts.json), --amount (uusdc).
 */
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { PerpchainClient, Trader, TxError } from '../client/index.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};

async function main(): Promise<void> {
  const home = resolve(arg('home', './.perpchain'));
  const keysPath = join(home, 'keys', 'dev-accounts.json');
  if (!existsSync(keysPath)) throw new Error(`${keysPath} not found: start the devnet first (npm start) or pass --home`);
  const { accounts } = JSON.parse(readFileSync(keysPath, 'utf8')) as { accounts: Array<{ name: string; address: string; mnemonic: string }> };
  const from = accounts.find((a) => a.name === arg('from', 'dev0'));
  const to = accounts.find((a) => a.name === arg('to', 'dev1'));
  if (!from || !to) throw new Error(`unknown account; have ${accounts.map((a) => a.name).join(', ')}`);
  const amount = arg('amount', '1500000');

  const client = await PerpchainClient.connect(arg('url', 'ws://127.0.0.1:8090'));
  const signer = await DirectSecp256k1HdWallet.fromMnemonic(from.mnemonic, { prefix: 'perp' });
  const trader = await Trader.create({ client, signer });
  const before = await client.query<{ amount: string }>(`bank/balance/${to.address}`);
  console.log(`${from.name} → ${to.name}: ${amount} uusdc (chain ${client.chainId})`);
  try {
    const inc = await trader.execute([{ typeUrl: '/perpchain.bank.v1.MsgSend', value: { fromAddress: from.address, toAddress: to.address, amount } }], 100_000n);
    const after = await client.query<{ amount: string }>(`bank/balance/${to.address}`);
    console.log(`included at height ${inc.height}, tx ${inc.hash}; ${to.name} balance ${before.amount} → ${after.amount} uusdc`);
  } catch (e) {
    if (e instanceof TxError) console.error(`refused: ${e.codespace}/${e.code} ${e.message}`);
    else throw e;
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
