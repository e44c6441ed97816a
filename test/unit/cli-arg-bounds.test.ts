/**
 * The command line's value parsers (chain/cli/args.ts) at their bounds, and
 * `perpchain init`'s documented default of five development accounts
 * (README: "five funded development accounts (dev0…dev4)"). The parsers are
 * called directly; only the init default needs the real program (one spawn).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { chainIdArg, intArg, portArg, urlArg } from '../../chain/cli/args.js';
import { homePaths, readDevAccounts } from '../../chain/devnet/home.js';

describe('intArg(min, max): both bounds are inclusive', () => {
  const accounts = intArg(1, 1000); // `init --accounts`
  it('accepts min and max, refuses one past either', () => {
    expect(accounts('1')).toBe(1);
    expect(accounts('1000')).toBe(1000);
    expect(() => accounts('0')).toThrow(/expected 1…1000/);
    expect(() => accounts('1001')).toThrow(/expected 1…1000/);
  });
  it('with no max: min is accepted, one below refused (`start --block-interval`, at least 10)', () => {
    expect(intArg(10)('10')).toBe(10);
    expect(() => intArg(10)('9')).toThrow(/expected at least 10/);
  });
});

describe('portArg', () => {
  it('takes 0 (any free port: the tests and `--api-port 0` rely on it) up to 65535', () => {
    expect(portArg('0')).toBe(0);
    expect(portArg('65535')).toBe(65535);
    expect(() => portArg('65536')).toThrow(/expected 0…65535/);
  });
});

describe('urlArg (--comet-rpc)', () => {
  it('takes http and https URLs only', () => {
    expect(urlArg('http://127.0.0.1:26657')).toBe('http://127.0.0.1:26657');
    expect(urlArg('https://rpc.example:443')).toBe('https://rpc.example:443');
    expect(() => urlArg('ws://127.0.0.1:26657')).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
    expect(() => urlArg('file:///etc/passwd')).toThrow(/expected an http:\/\/ or https:\/\/ URL/);
  });
});

describe('chainIdArg (--chain-id): what CometBFT accepts, 1 to 50 printable ASCII characters without spaces', () => {
  it('50 characters pass, 51 do not; a space does not', () => {
    expect(chainIdArg('c'.repeat(50))).toBe('c'.repeat(50));
    expect(() => chainIdArg('c'.repeat(51))).toThrow(/1 to 50 printable ASCII characters/);
    expect(() => chainIdArg('my chain')).toThrow(/without spaces/);
    expect(() => chainIdArg('')).toThrow();
  });
});

describe('perpchain init', () => {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const tmp = mkdtempSync(join(tmpdir(), 'perpchain-init-default-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('creates five development accounts when --accounts is not given', () => {
    const home = join(tmp, 'home');
    const r = spawnSync(process.execPath, [join(root, 'bin', 'perpchain.mjs'), 'init', '--home', home], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    // the key file also holds the price feeder's key
    expect(readDevAccounts(homePaths(home)).map((k) => k.name)).toEqual(['dev0', 'dev1', 'dev2', 'dev3', 'dev4', 'feeder']);
  });
});
