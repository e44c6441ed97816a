/**
 * npm run bench [-- <name>…] [--save-baseline]
 *
 * Runs the benchmarks in bench/*.bench.ts (each exports `name`, `description`
 * and `run(): Promise<BenchFigures>`), prints their figures with the machine,
 * and compares every figure with bench/baseline.json (committed) as a ratio.
 * Machines are noisy: read ratios against the peer run in the same process
 * and against the baseline, not absolute times.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, availableParallelism } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type BenchFigures = Record<string, number>;
export interface BenchModule {
  name: string;
  description: string;
  /** Figures where larger is better unless the key ends in _ms, _us, _ns, _mb, _bytes, _pct (overheads) or _s (seconds; but _per_s is a rate). */
  run(args: string[]): Promise<BenchFigures>;
}

const here = dirname(fileURLToPath(import.meta.url));
const baselinePath = join(here, 'baseline.json');

function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown cpu'} × ${availableParallelism()} · ${(totalmem() / 2 ** 30).toFixed(1)} GiB · node ${process.version} · ${process.platform}-${process.arch}`;
}

function lowerIsBetter(key: string): boolean {
  if (/_per_s$/.test(key)) return false; // a rate (tx_per_s, ops_per_s), not a duration in seconds
  return /_(ms|us|ns|mb|bytes|s|pct)$/.test(key); // _pct: overheads and shares
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const save = argv.includes('--save-baseline');
  const names = argv.filter((a) => !a.startsWith('--'));
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();
  const baseline: Record<string, BenchFigures> = existsSync(baselinePath) ? JSON.parse(readFileSync(baselinePath, 'utf8')).results ?? {} : {};
  const results: Record<string, BenchFigures> = {};
  console.log(`machine: ${machine()}`);
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
    if (names.length && !names.includes(mod.name)) continue;
    console.log(`\n== ${mod.name}: ${mod.description}`);
    const figures = await mod.run(argv);
    results[mod.name] = figures;
    const base = baseline[mod.name] ?? {};
    for (const [k, v] of Object.entries(figures)) {
      const b = base[k];
      let cmp = '';
      if (b !== undefined && b !== 0) {
        const ratio = v / b;
        const better = lowerIsBetter(k) ? ratio < 1 : ratio > 1;
        cmp = `  (baseline ${fmt(b)}, ×${ratio.toFixed(2)}${Math.abs(ratio - 1) > 0.1 ? (better ? ' better' : ' worse') : ''})`;
      }
      console.log(`  ${k.padEnd(44)} ${fmt(v).padStart(14)}${cmp}`);
    }
  }
  if (save) {
    const merged = { machine: machine(), date: new Date().toISOString(), results: { ...baseline, ...results } };
    writeFileSync(baselinePath, JSON.stringify(merged, null, 2) + '\n');
    console.log(`\nbaseline written to ${baselinePath}`);
  }
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return v.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
