import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { DEFAULT_CHAIN_ID, homePaths, initHome, readDevAccounts, type DevAccount } from '../devnet/home.js';
import { DevnetNode } from '../devnet/node.js';
import { SOFTWARE_VERSION } from '../app.js';
import { registerSimCommand } from '../../sim/cli.js';
import { registerAbciCommand } from './abci-command.js';
import { registerVerifyCommand } from '../verify/command.js';
import { chainIdArg, intArg, portArg } from './args.js';

const program = new Command();
program
  .name('perpchain')
  .description('perpchain: a perpetual-futures exchange that is its own blockchain')
  .version(SOFTWARE_VERSION)
  .showHelpAfterError();

function printDevAccounts(accounts: DevAccount[], where: string): void {
  console.log('\n  INSECURE DEVELOPMENT KEYS (never use them for real funds); also in ' + where);
  for (const a of accounts) console.log(`    ${a.name}  ${a.address}\n      ${a.mnemonic}`);
  console.log('');
}

program
  .command('init')
  .description('create a node home: genesis (with funded development accounts and markets), node config and dev keys')
  .requiredOption('--home <dir>', 'node home directory')
  .addOption(new Option('--chain-id <id>', 'chain id').argParser(chainIdArg).default(DEFAULT_CHAIN_ID))
  .addOption(new Option('--accounts <n>', 'number of funded development accounts (the first is the market authority)').argParser(intArg(1, 1000)).default(5))
  .option('--overwrite', 'replace the genesis, node config and dev keys of a home that has no chain data yet', false)
  .action(async (o: { home: string; chainId: string; accounts: number; overwrite: boolean }) => {
    const { paths, accounts } = await initHome({ home: o.home, chainId: o.chainId, accounts: o.accounts, overwrite: o.overwrite });
    console.log(`initialised ${paths.home} for chain ${o.chainId}\n  genesis: ${paths.genesis}\n  config:  ${paths.config}`);
    printDevAccounts(accounts, paths.devKeys);
  });

program
  .command('start')
  .description('run a single-validator devnet node: produces blocks, serves the WebSocket API (creates the home on first start)')
  .requiredOption('--home <dir>', 'node home directory')
  .addOption(new Option('--chain-id <id>', 'chain id when the home is created').argParser(chainIdArg).default(DEFAULT_CHAIN_ID))
  .addOption(new Option('--api-port <port>', 'API port (overrides config/node.json)').argParser(portArg))
  .option('--api-host <host>', 'API listen address, e.g. 0.0.0.0 to serve the market page to other machines (overrides config/node.json)')
  .addOption(new Option('--block-interval <ms>', 'block interval in ms, at least 10 (overrides config/node.json)').argParser(intArg(10)))
  .option('--check-invariants', 'check every module invariant after every block and halt with a report if one breaks')
  .action(async (o: { home: string; chainId: string; apiPort?: number; apiHost?: string; blockInterval?: number; checkInvariants?: boolean }) => {
    const paths = homePaths(o.home);
    const existing = existsSync(paths.genesis);
    if (!existing) {
      const { accounts } = await initHome({ home: o.home, chainId: o.chainId });
      console.log(`created a new devnet home at ${paths.home}`);
      printDevAccounts(accounts, paths.devKeys);
    }
    const node = await DevnetNode.start({
      home: o.home,
      ...(o.apiPort !== undefined ? { apiPort: o.apiPort } : {}),
      ...(o.apiHost !== undefined ? { apiHost: o.apiHost } : {}),
      ...(o.blockInterval !== undefined ? { blockIntervalMs: o.blockInterval } : {}),
      ...(o.checkInvariants ? { checkInvariants: true } : {}),
      // a node that halted (a broken invariant, a failed database) keeps serving the API; the exit code it
      // ends with (when a supervisor stops it) says something went wrong
      onHalt: () => {
        process.exitCode = 1;
      },
    });
    if (existing) {
      // only once the node holds the home: a second start that is refused (lock) prints nothing but the refusal
      const accounts = readDevAccounts(paths);
      if (accounts.length) console.log(`development accounts: ${accounts.map((a) => a.address).join(', ')} (mnemonics in ${paths.devKeys})`);
    }
    console.log(`node running; data in ${paths.db}; press Ctrl-C to stop (the next start continues at the same height)`);
    console.log(`market page: http://${node.apiAddress.host}:${node.apiAddress.port}/   API: ws://${node.apiAddress.host}:${node.apiAddress.port}/ (protocol: chain/api/README.md)`);
    let stopping = false;
    const stop = async (sig: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${sig}: stopping after the current block…`);
      await node.stop();
      console.log(`stopped at height ${node.app.height}`);
      // a node that halted has set a non-zero exit code (onHalt above): keep it for supervisors and scripts
      process.exit();
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

registerAbciCommand(program);
registerSimCommand(program);
registerVerifyCommand(program);

program.parseAsync(process.argv).catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
