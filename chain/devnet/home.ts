import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { DirectSecp256k1HdWallet } from '@cosmjs/proto-signing';
import { DEFAULT_CONSENSUS_PARAMS } from '../app.js';
import { marketsAppState } from './markets.js';

/**
 * A node home:
 *   config/genesis.json   CometBFT-shaped genesis (chain_id, consensus_params, app_state)
 *   config/node.json      node settings (API address, block interval, limits)
 *   data/state.db         sqlite: committed state, app hash, block log
 *   data/snapshots/       state-sync snapshots this node offers (config `snapshots`)
 *   keys/dev-accounts.json  INSECURE development mnemonics (devnet only)
 *   LOCK                  pid of the process using the home
 */
export interface HomePaths {
  home: string;
  genesis: string;
  config: string;
  db: string;
  snapshots: string;
  devKeys: string;
  lock: string;
}

export function homePaths(home: string): HomePaths {
  const h = resolve(home);
  return {
    home: h,
    genesis: join(h, 'config', 'genesis.json'),
    config: join(h, 'config', 'node.json'),
    db: join(h, 'data', 'state.db'),
    snapshots: join(h, 'data', 'snapshots'),
    devKeys: join(h, 'keys', 'dev-accounts.json'),
    lock: join(h, 'LOCK'),
  };
}

export const NodeConfigSchema = z.object({
  api: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8090),
      max_frame_bytes: z.number().int().positive().default(1024 * 1024),
      max_subscriptions: z.number().int().positive().default(100),
      max_connections_per_ip: z.number().int().positive().default(50),
      max_messages_per_second: z.number().int().positive().default(200),
      /** All connections of one remote address together. */
      max_messages_per_second_per_ip: z.number().int().positive().default(1000),
      heartbeat_ms: z.number().int().positive().default(30_000),
      max_buffered_bytes: z.number().int().positive().default(8 * 1024 * 1024),
      /** Time a slow consumer gets to read the error and close frame before its socket is destroyed. */
      slow_consumer_grace_ms: z.number().int().positive().default(2_000),
      /** Blocks after which a submitted tx that was not included is reported as timed out. */
      inclusion_timeout_blocks: z.number().int().positive().default(100),
      /** Serve the read-only market page at GET / (same port). */
      serve_web: z.boolean().default(true),
      /** ABCI mode: CometBFT RPC that submit_tx forwards to (broadcast_tx_sync). */
      comet_rpc_url: z.string().url().default('http://127.0.0.1:26657'),
      /** ABCI mode: run the API server next to the ABCI socket. */
      enabled: z.boolean().default(true),
    })
    .prefault({}),
  block_interval_ms: z.number().int().min(10).default(500),
  mempool: z
    .object({ max_txs: z.number().int().positive().default(50_000), max_bytes: z.number().int().positive().default(64 * 1024 * 1024) })
    .prefault({}),
  feeder: z
    .object({
      enabled: z.boolean().default(true),
      /** Milliseconds of historic data replayed per block. */
      data_ms_per_block: z.number().int().positive().default(1000),
      markets: z
        .array(z.object({ market_id: z.number().int().nonnegative(), dataset: z.string(), price_exponent: z.number().int() }))
        .default([
          { market_id: 0, dataset: 'btc-2022-11-08', price_exponent: -5 },
          { market_id: 1, dataset: 'eth-2022-11-08', price_exponent: -6 },
        ]),
    })
    .prefault({}),
  durability: z.enum(['normal', 'full']).default('normal'),
  check_invariants: z.boolean().default(false),
  retain_blocks: z.number().int().min(0).default(0),
  /** State-sync snapshots this node takes and offers to peers (chain/snapshot/README.md). */
  snapshots: z
    .object({
      /** Take one after every Commit of a height divisible by this; 0 = none. */
      interval: z.number().int().min(0).default(0),
      /** Snapshots kept on disk (older ones are deleted once a new one is complete). */
      keep_recent: z.number().int().min(1).default(2),
    })
    .prefault({}),
  /** Hex address (20 bytes) this node signs blocks as in devnet mode. */
  validator_address: z.string().regex(/^[0-9A-F]{40}$/).optional(),
});
export type NodeConfig = z.output<typeof NodeConfigSchema>;

export interface GenesisDoc {
  genesis_time: string;
  chain_id: string;
  initial_height: string;
  consensus_params: {
    block: { max_bytes: string; max_gas: string };
    evidence: { max_age_num_blocks: string; max_age_duration: string; max_bytes: string };
    validator: { pub_key_types: string[] };
    version: { app: string };
    abci: { vote_extensions_enable_height: string };
  };
  validators: unknown[];
  app_hash: string;
  app_state: Record<string, unknown>;
}

export interface DevAccount {
  name: string;
  address: string;
  mnemonic: string;
}

export interface InitOptions {
  home: string;
  chainId: string;
  /** Number of funded development accounts (default 5). */
  accounts?: number;
  /** uusdc per development account (default 1,000,000 USDC). */
  balance?: bigint;
  overwrite?: boolean;
  /** Extra app_state sections (e.g. markets) merged in. */
  appState?: Record<string, unknown>;
  /** Wall-clock genesis time (drivers may read the clock; consensus code never does). */
  genesisTime?: Date;
}

export const DEFAULT_CHAIN_ID = 'perpchain-devnet-1';

/** Create a home with a genesis, a node config and funded development keys. */
export async function initHome(o: InitOptions): Promise<{ paths: HomePaths; accounts: DevAccount[] }> {
  const paths = homePaths(o.home);
  if (o.accounts !== undefined && (!Number.isSafeInteger(o.accounts) || o.accounts < 1)) throw new Error(`at least one development account is needed (the market authority), got ${o.accounts}`);
  // Never replace chain data, and never silently replace keys: a home with data or keys but no genesis is
  // damaged, not new (its mnemonics, market authority and feeder key would be lost for good).
  if (existsSync(paths.db)) {
    throw new Error(
      existsSync(paths.genesis)
        ? `${paths.home} already holds chain data (${paths.db}); delete its data directory yourself before re-initialising, so no chain data is lost by accident`
        : `${paths.home} holds chain data (${paths.db}) but no ${paths.genesis}: restore that file, or delete the home to start over`,
    );
  }
  if (existsSync(paths.genesis) && !o.overwrite) throw new Error(`${paths.genesis} already exists (pass --overwrite to replace its genesis, node config and dev keys)`);
  if (existsSync(paths.devKeys) && !o.overwrite) throw new Error(`${paths.devKeys} already exists but ${paths.genesis} does not: restore the genesis, or replace the keys too with \`perpchain init --home ${o.home} --overwrite\``);
  for (const d of ['config', 'data', 'keys']) mkdirSync(join(paths.home, d), { recursive: true });
  const accounts: DevAccount[] = [];
  const names = [...Array.from({ length: o.accounts ?? 5 }, (_, i) => `dev${i}`), 'feeder'];
  for (const name of names) {
    const w = await DirectSecp256k1HdWallet.generate(24, { prefix: 'perp' });
    const [acc] = await w.getAccounts();
    accounts.push({ name, address: acc!.address, mnemonic: w.mnemonic });
  }
  const authority = accounts[0]!.address;
  const feeder = accounts[accounts.length - 1]!.address;
  const balance = (o.balance ?? 1_000_000_000_000n).toString();
  const genesis: GenesisDoc = {
    genesis_time: (o.genesisTime ?? new Date()).toISOString(),
    chain_id: o.chainId,
    initial_height: '1',
    consensus_params: defaultConsensusParamsJson(),
    validators: [],
    app_hash: '',
    app_state: {
      bank: { balances: accounts.map((a) => ({ address: a.address, amount: balance })) },
      ...marketsAppState(authority, [feeder]),
      ...(o.appState ?? {}),
    },
  };
  writeFileSync(paths.genesis, JSON.stringify(genesis, null, 2) + '\n');
  const config = NodeConfigSchema.parse({ validator_address: randomBytes(20).toString('hex').toUpperCase() });
  writeFileSync(paths.config, JSON.stringify(config, null, 2) + '\n');
  writeFileSync(
    paths.devKeys,
    JSON.stringify(
      {
        WARNING: 'INSECURE DEVELOPMENT KEYS. These mnemonics are stored in plain text and printed on the console. Never use them on a real network or for real funds.',
        chain_id: o.chainId,
        market_authority: authority,
        price_feeder: feeder,
        accounts,
      },
      null,
      2,
    ) + '\n',
  );
  chmodSync(paths.devKeys, 0o600);
  return { paths, accounts };
}

/** The genesis file's consensus_params section for the defaults (CometBFT's JSON shape). */
export function defaultConsensusParamsJson(): GenesisDoc['consensus_params'] {
  return {
    block: { max_bytes: DEFAULT_CONSENSUS_PARAMS.block.maxBytes.toString(), max_gas: DEFAULT_CONSENSUS_PARAMS.block.maxGas.toString() },
    evidence: { max_age_num_blocks: '100000', max_age_duration: '172800000000000', max_bytes: '1048576' },
    validator: { pub_key_types: ['ed25519'] },
    version: { app: '1' },
    abci: { vote_extensions_enable_height: '0' },
  };
}

/** A JSON file's contents; a syntax error names the file. */
export function readJsonFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const intString = (what: string, min: bigint) =>
  z
    .string()
    .regex(/^-?[0-9]{1,19}$/, `${what} must be an integer in a JSON string`)
    // (zod runs a refinement even after the regex failed: guard before BigInt)
    .refine((s) => !/^-?[0-9]{1,19}$/.test(s) || (BigInt(s) >= min && BigInt(s) < 1n << 63n), `${what} must be at least ${min}`);

/**
 * The parts of a (CometBFT-format) genesis file that perpchain reads; other fields pass through. Checked
 * before anything starts, so a bad field is named instead of failing later as "Cannot convert abc to a
 * BigInt", a stored chain id of a NUL byte, or a block size of −1 that lets no tx into a block.
 */
const GenesisFileSchema = z.looseObject({
  genesis_time: z.string(),
  chain_id: z.string().regex(/^[\x21-\x7e]{1,50}$/, 'chain_id must be 1 to 50 printable ASCII characters without spaces'),
  initial_height: intString('initial_height', 1n).optional(),
  consensus_params: z.looseObject({
    block: z.looseObject({
      max_bytes: intString('consensus_params.block.max_bytes', -1n).refine((s) => s === '-1' || BigInt(s) >= 1024n, 'consensus_params.block.max_bytes must be at least 1024 (or -1: 100 MiB)'),
      max_gas: intString('consensus_params.block.max_gas', -1n),
    }),
    abci: z.looseObject({ vote_extensions_enable_height: intString('consensus_params.abci.vote_extensions_enable_height', 0n) }).optional(),
  }),
  app_state: z.record(z.string(), z.unknown()),
});

export function readGenesis(paths: HomePaths): GenesisDoc {
  const raw = readJsonFile(paths.genesis);
  const r = GenesisFileSchema.safeParse(raw);
  if (!r.success) throw new Error(`${paths.genesis}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`);
  return raw as GenesisDoc;
}

/** CometBFT's largest block (types.MaxBlockSizeBytes): what max_bytes = -1 means. */
export const MAX_BLOCK_BYTES = 104_857_600n;

export function readConfig(paths: HomePaths): NodeConfig {
  const raw = existsSync(paths.config) ? readJsonFile(paths.config) : {};
  const r = NodeConfigSchema.safeParse(raw);
  if (!r.success) throw new Error(`${paths.config}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

export function readDevAccounts(paths: HomePaths): DevAccount[] {
  if (!existsSync(paths.devKeys)) return [];
  return (readJsonFile(paths.devKeys) as { accounts?: DevAccount[] }).accounts ?? [];
}

/** Genesis time (RFC 3339) → ns since epoch, keeping sub-millisecond digits. */
export function rfc3339ToNs(s: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) throw new Error(`not an RFC 3339 time: ${s}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${s}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export function consensusParamsOf(g: GenesisDoc) {
  return {
    // as written (it is state, in the app hash, as CometBFT hands it to InitChain); -1 is read as MAX_BLOCK_BYTES where a byte budget is needed
    block: { maxBytes: BigInt(g.consensus_params.block.max_bytes), maxGas: BigInt(g.consensus_params.block.max_gas) },
    abci: { voteExtensionsEnableHeight: BigInt(g.consensus_params.abci?.vote_extensions_enable_height ?? '0') },
  };
}
