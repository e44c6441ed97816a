/**
 * `perpchain sim --axis … --json`: stdout carries the sweep's JSON alone (what sweep.json holds), so
 * `| jq` works; the numbered "run i/n" lines and the file list go to stderr. The sweep branch used to ignore
 * --json and print the run lines on stdout.
 */
import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerSimCommand } from '../../sim/cli.js';
import { TINY_SCENARIO } from './tiny.js';

const tmp = mkdtempSync(join(tmpdir(), 'perpchain-sim-json-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('perpchain sim --json with a sweep', () => {
  it('prints sweep.json alone on stdout and the run lines on stderr', async () => {
    const config = join(tmp, 'tiny.json');
    writeFileSync(config, JSON.stringify(TINY_SCENARIO));
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      const program = new Command().exitOverride();
      registerSimCommand(program);
      const dir = join(tmp, 'out');
      await program.parseAsync(['node', 'perpchain', 'sim', '--no-progress', '--config', config, '--out', dir, '--axis', 'seed=3,4', '--jobs', '1', '--json']);
      const printed = JSON.parse(out.join('\n')) as unknown;
      expect(printed).toEqual(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')));
      expect(err.filter((l) => /^run [12]\/2 /.test(l))).toHaveLength(2);
      expect(err.join('\n')).toMatch(/sweep of 2 runs/);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
