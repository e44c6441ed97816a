/**
 * The generated protobuf code in proto/gen is committed; it must be exactly
 * what scripts/gen-proto.mjs produces from proto/**\/*.proto today (else a
 * .proto edit was not regenerated, or the generated file was hand-edited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'perpchain-proto-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run the generator into `out`; returns its error output when it failed (it may fail after writing earlier bundles). */
function generate(out: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'scripts', 'gen-proto.mjs'), out], { cwd: root, encoding: 'utf8' }, (err, _stdout, stderr) => {
      resolve(err ? `scripts/gen-proto.mjs failed (${err.code ?? err.signal}):\n${stderr.split('\n').slice(0, 6).join('\n')}` : undefined);
    });
  });
}

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const first = join(tmp, 'a');
let errors: Array<string | undefined> = [];

function compare(bundle: string): void {
  for (const ext of ['.js', '.d.ts']) {
    const name = bundle + ext;
    const committed = join(root, 'proto', 'gen', name);
    expect(existsSync(join(first, name)), `${name} was not generated. ${errors[0] ?? ''}`).toBe(true);
    // Text first (a readable diff on failure), then bytes.
    expect(readFileSync(committed, 'utf8'), `proto/gen/${name} is stale: run node scripts/gen-proto.mjs`).toBe(readFileSync(join(first, name), 'utf8'));
    expect(sha(committed)).toBe(sha(join(first, name)));
  }
}

describe('generated protobuf code is fresh', () => {
  beforeAll(async () => {
    // One generation (pbjs + pbts per bundle take several seconds). Its output was checked to be
    // byte-identical across runs when this test was written; a nondeterministic generator would
    // make the comparison below fail on most runs anyway.
    errors = [await generate(first)];
  });

  it('perpchain bundle: gen-proto.mjs reproduces proto/gen/perpchain.{js,d.ts} byte for byte', () => {
    compare('perpchain');
  });

  it('cosmos bundle (the tx envelope the ante decodes): identical to proto/gen/cosmos.{js,d.ts}', () => {
    expect(errors[0]).toBeUndefined();
    compare('cosmos');
  });

  it.skipIf(!existsSync(join(root, 'proto', 'tendermint')) || !existsSync(join(root, 'proto', 'gen', 'tendermint.js')))(
    'tendermint bundle (when present): generated without error and identical to proto/gen/tendermint.{js,d.ts}',
    () => {
      expect(errors[0]).toBeUndefined();
      compare('tendermint');
    },
  );
});
