/**
 * VerifyPool.close() asks its threads to exit instead of terminating them: worker.terminate() landing inside a
 * call of the secp256k1 addon (node-addon-api, whose constructor runs while a thread starts) aborts the
 * whole process with "terminate called after throwing an instance of 'Napi::Error'". That is how a
 * fresh-clone CI run lost the vitest worker running the devnet node life-cycle test: every quick or refused
 * node start closes a pool whose threads are still starting. The pools are made and closed in a child
 * process (lib/pool-close.ts), so the code before the fix cannot take this test's worker down either.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

describe('VerifyPool.close', { timeout: 300_000 }, () => {
  it('lets every thread exit by itself (exit code 0, none terminated), also one still starting, before it resolves', async () => {
    const r = await new Promise<{ err: Error | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ['--import', 'tsx', join(here, 'lib', 'pool-close.ts'), '10'], { cwd: join(here, '..', '..'), timeout: 240_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) =>
        resolve({ err, stdout, stderr }),
      ),
    );
    const context = `${r.err?.message ?? ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    expect(r.err, context).toBeNull();
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, context).toBeDefined();
    const { codes, openAfterClose, terminated } = JSON.parse(line!.slice('RESULT '.length)) as { codes: number[]; openAfterClose: number; terminated: number };
    expect(terminated, context).toBe(0);
    expect(codes, context).toEqual(new Array(20).fill(0));
    expect(openAfterClose, context).toBe(0);
  });
});
