/**
 * What a web page of a trader would run: the SDK (client/) and a stock cosmjs
 * HD wallet, bundled for the browser by test/e2e/sdk-browser.e2e.test.ts.
 * `window.runTrader(url, mnemonic)` connects to the node, deposits, rests an
 * order, cancels it and reports what it saw, all signed inside the page.
 */
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { PerpchainClient, Trader, txHashOf } from '../../../client/index.js';

async function runTrader(url: string, mnemonic: string) {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: 'perp' });
  const [account] = await wallet.getAccounts();
  const client = await PerpchainClient.connect({ url });
  try {
    const trader = await Trader.create({ client, signer: wallet });
    const deposit = await trader.deposit('250');
    const placed = await trader.placeOrder({ market: 'BTC-USD', side: 'buy', price: '60000', size: '0.001' });
    const openAfterPlace = (await client.orders(account!.address)).map((o) => o.id);
    await trader.cancelOrder({ orderId: placed.orderId });
    const sub = await client.subaccount(account!.address);
    return {
      address: account!.address,
      depositHeight: deposit.height,
      depositHash: deposit.hash,
      // the SDK's own tx hash function (cosmjs sha256, no node:crypto) over bytes we know the hash of
      emptyHash: await txHashOf(new Uint8Array()),
      orderId: placed.orderId.toString(),
      status: placed.status,
      openAfterPlace,
      openAfterCancel: (await client.orders(account!.address)).length,
      collateral: sub.collateral,
      nativeWebSocket: typeof WebSocket === 'function',
    };
  } finally {
    client.close();
  }
}

(globalThis as unknown as { runTrader: typeof runTrader }).runTrader = runTrader;
