/**
 * `perpchain abci --max-frame-bytes N`: the frame cap docs/cometbft.md tells operators to raise for a genesis
 * app_state over 128 MiB. It used to be reachable only from code. Checked as a process: the cap it logs, a frame
 * announced above it answered with an exception and the connection closed, and a value outside [1 KiB, the largest Buffer] refused by
 * the command line before anything opens.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Response } from 'cosmjs-types/tendermint/abci/types';
import { putUvarint } from '../../chain/abci/index.js';
import { startProc, type Proc } from '../helpers/proc.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'bin', 'perpchain.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-abci-frame-'));
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('perpchain abci --max-frame-bytes', () => {
  it('serves with the cap it was given and refuses a frame above it', async () => {
    const sock = join(tmp, 'abci.sock');
    const p = startProc(process.execPath, [cli, 'abci', '--home', join(tmp, 'home'), '--addr', `unix://${sock}`, '--no-api', '--max-frame-bytes', '4096'], { cwd: root });
    procs.push(p);
    await p.waitFor(/abci server listening on .*\(max frame 4096 bytes\)/, 60_000);
    // a length prefix announcing 4,097 bytes: refused at once (the body is not awaited), then the connection closes
    const s = connect(sock);
    const prefix = new Uint8Array(10);
    const n = putUvarint(prefix, 0, 4097);
    s.write(prefix.subarray(0, n));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    await new Promise<void>((resolve) => s.on('close', () => resolve()));
    const bytes = Buffer.concat(got);
    expect(bytes.length).toBeGreaterThan(0);
    // one response: uvarint length, then the body (decoded with cosmjs-types, as CometBFT's side would)
    let len = 0;
    let i = 0;
    for (let shift = 1; ; shift *= 128) {
      const byte = bytes[i++]!;
      len += (byte & 0x7f) * shift;
      if (byte < 0x80) break;
    }
    const res = Response.decode(bytes.subarray(i, i + len));
    expect(res.exception?.error).toMatch(/frame of 4097 bytes exceeds the limit of 4096 bytes/);
  });

  it('a cap under 1 KiB is refused on the command line (so is one above the largest Buffer)', async () => {
    const p = startProc(process.execPath, [cli, 'abci', '--home', join(tmp, 'home2'), '--max-frame-bytes', '10'], { cwd: root });
    procs.push(p);
    const { code } = await p.exited;
    expect(code).not.toBe(0);
    expect(p.lines.join('\n')).toMatch(/--max-frame-bytes.*expected 1024…\d+/);
  });
});
