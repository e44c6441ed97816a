/**
 * A one-line progress bar on stderr (redrawn in place with \r; only when
 * stderr is a terminal unless forced). Display only: it reads the wall clock,
 * which never reaches the chain.
 */
import type { Progress } from './runner.js';

const WIDTH = 24;

function clock(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(ss).padStart(2, '0')}` : `${m}:${String(ss).padStart(2, '0')}`;
}

function usd(v: number): string {
  const a = Math.abs(v);
  return a >= 1e9 ? `$${(v / 1e9).toFixed(2)}B` : a >= 1e6 ? `$${(v / 1e6).toFixed(2)}M` : a >= 1e3 ? `$${(v / 1e3).toFixed(1)}k` : `$${v.toFixed(0)}`;
}

export function formatProgress(p: Progress, label = ''): string {
  const f = p.total > 0 ? p.block / p.total : 0;
  const full = Math.floor(f * WIDTH);
  const bar = '█'.repeat(full) + (full < WIDTH ? '░'.repeat(WIDTH - full) : '');
  const rate = p.elapsedMs > 0 ? (p.block / p.elapsedMs) * 1000 : 0;
  const eta = rate > 0 ? ((p.total - p.block) / rate) * 1000 : NaN;
  return `${label}[${bar}] ${(f * 100).toFixed(1).padStart(5)}%  ${p.block.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} blocks  ${Math.round(rate).toLocaleString('en-US')} blk/s  ETA ${clock(eta)}  liq ${p.liquidations.toLocaleString('en-US')}  IF ${usd(p.insuranceFundUsd)}  bad debt ${usd(p.badDebtUsd)}`;
}

export class ProgressBar {
  private active = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(p: Progress, label = ''): void {
    if (!this.enabled) return;
    const cols = this.stream.columns || 120;
    this.stream.write(`\r${formatProgress(p, label).slice(0, cols - 1)}\x1b[K`);
    this.active = true;
  }

  done(): void {
    if (this.active) this.stream.write('\n');
    this.active = false;
  }
}
