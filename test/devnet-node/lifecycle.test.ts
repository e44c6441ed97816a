/**
 * The devnet node's life cycle (chain/devnet/node.ts) on small homes with 10 ms blocks: option overrides pass
 * the node.json checks and a refused start frees the home; a home of another chain is refused; stop() lets
 * the block being made finish and nothing runs after it; a broken invariant halts production once, reported
 * through `halted` / `onHalt` and not through process-wide state; block times strictly increase, also across a
 * restart on a clock that went back; and blocks are reaped within the chain's max gas.
 *
 * The scenarios run the node in-process in a child process (lib/scenarios.ts), never in the
 * vitest worker: the node starts worker threads (WAL copy, signature pool), an API server and a block timer,
 * and a fault in any of them (a native crash, process.exitCode, a handle left open) then fails one test with
 * the child's output instead of losing the worker and every test in it. This file took the test worker down
 * once when the nodes ran in the worker itself (RELIABILITY §7). Every child must also exit by itself after
 * its nodes are stopped, with its exit code untouched.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const SCRIPT = join(here, 'lib', 'scenarios.ts');
/** The whole run takes well under a minute; a loaded machine gets a lot more, a hung child not forever. */
const CHILD_TIMEOUT_MS = 600_000;
/** Each test waits for its scenario's line, which on a loaded machine can come minutes after the child started. */
const WAIT = { timeout: CHILD_TIMEOUT_MS };

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-node-life-'));

/**
 * One child runs every scenario in order (lib/scenarios.ts): a child per scenario cost seconds of start-up
 * each. A crash in one scenario fails it and the ones after it, with the child's output.
 */
const out: string[] = [];
const results = new Map<string, Record<string, any>>();
const waiting = new Map<string, () => void>();
const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, tmp], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
createInterface({ input: child.stdout }).on('line', (l) => {
  out.push(`out: ${l}`);
  const m = /^RESULT (\w+) (.*)$/.exec(l);
  if (!m) return;
  results.set(m[1]!, JSON.parse(m[2]!) as Record<string, any>);
  waiting.get(m[1]!)?.();
});
createInterface({ input: child.stderr }).on('line', (l) => out.push(`err: ${l}`));
const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
  child.on('close', (code, signal) => {
    clearTimeout(killer);
    for (const w of waiting.values()) w();
    resolve({ code, signal });
  }),
);
afterAll(async () => {
  child.kill('SIGKILL');
  await ended;
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * What a scenario saw. It must have run to its end with nothing left behind: no exception, process.exitCode
 * untouched (the node sets no process-wide state: the exit code is the host's), and nothing of the stopped
 * nodes holding the process (no timer, server or socket; a worker thread still finishing its termination
 * shows as a MessagePort for a moment and keeps nothing alive).
 */
async function scenario(name: string): Promise<Record<string, any>> {
  if (!results.has(name) && child.exitCode === null && child.signalCode === null) await new Promise<void>((r) => waiting.set(name, r));
  const r = results.get(name);
  const context = () => `scenario ${name}: child exit code ${child.exitCode}, signal ${child.signalCode}; output:\n${out.slice(-60).join('\n')}`;
  expect(r, context()).toBeDefined();
  expect(r!.error, context()).toBeUndefined();
  expect(r!.exitCode, context()).toBeNull();
  expect((r!.active as string[]).filter((a) => a !== 'MessagePort'), context()).toEqual([]);
  return r!;
}

describe('devnet node: start-up', WAIT, () => {
  it('an override node.json would refuse is refused, and the refused start leaves the home usable', async () => {
    const r = await scenario('overrides');
    expect(r.refused).toMatch(/^node options: block_interval_ms: /);
    // the refused start released the home lock (another process could not start on this home otherwise)
    expect(r.lockAfterRefusal).toBe(false);
    expect(r.interval).toBe(10);
  });

  it('refuses a home whose data is of another chain than its genesis, and releases the home', async () => {
    const r = await scenario('otherChain');
    expect(r.refused).toBe('home data is for chain perpchain-node-life-1, genesis says perpchain-other-9');
    expect(r.lockAfterRefusal).toBe(false);
  });
});

describe('devnet node: block production', WAIT, () => {
  it('stop() lets the block being made commit, and no block is attempted after it', async () => {
    const r = await scenario('stop');
    // nothing of the shutdown (closing the API, then the App) started before that block was committed
    expect(r.shutDownWhileMaking).toBe(false);
    expect(r.fatal).toEqual([]);
    expect(r.halted).toBeNull();
    expect(r.last).toMatch(new RegExp(`^block ${r.height} `));
    expect(r.logsAfterStop).toEqual([]);
    expect(r.stored).toBe(r.height);
  });

  it('the checkInvariants override applies: the block on a broken state is refused and nothing is committed', async () => {
    const r = await scenario('invOverride');
    expect(r.produced).toBe('InvariantBrokenError');
    expect(r.height).toBe('2');
  });

  it('a broken invariant halts production once, reported by the node (halted, onHalt), not by process.exitCode', async () => {
    const r = await scenario('invHalt');
    expect(r.fatal.length).toBe(1);
    expect(r.fatal[0]).toMatch(/^FATAL: block production stopped: invariant broken at height 3/);
    expect(r.height).toBe('2');
    expect(r.halted).toMatchObject({ height: '3' });
    expect(r.halted.message).toMatch(/^invariant broken at height 3:\n {2}bank\/supply:/);
    expect(r.onHalt).toEqual(['the halt']);
    // (scenario() checked that process.exitCode is untouched; the CLI's exit code 1 after a halt is
    // test/reliability/invariants.test.ts's)
  });

  it('block times strictly increase, 1 ms apart when the clock has not moved', async () => {
    const r = await scenario('sameMs');
    expect(BigInt(r.a)).toBe(BigInt(r.now) * 1_000_000n);
    expect(BigInt(r.b) - BigInt(r.a)).toBe(1_000_000n);
  });

  it("after a restart on a clock that went back, blocks carry times after the last block's", async () => {
    const r = await scenario('clockBack');
    expect(BigInt(r.next)).toBe(BigInt(r.last) + 1_000_000n);
  });

  it("takes from the mempool only what fits the chain's max gas; the rest waits for the next block", async () => {
    const r = await scenario('maxGas');
    expect(r.first).toBe(2);
    expect(r.second).toBe(1);
  });
});

describe('devnet node: after every node is stopped', WAIT, () => {
  it('the process ends by itself with exit code 0 (nothing of a stopped node keeps it alive or set its exit code)', async () => {
    const e = await ended;
    expect(e, out.slice(-60).join('\n')).toEqual({ code: 0, signal: null });
    expect([...results.keys()]).toEqual(['overrides', 'otherChain', 'stop', 'invOverride', 'invHalt', 'sameMs', 'clockBack', 'maxGas']);
  });
});
