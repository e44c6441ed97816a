import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SNAPSHOT_FORMAT } from './format.js';

/** What ListSnapshots offers for one snapshot (CometBFT's `Snapshot`). */
export interface SnapshotInfo {
  height: bigint;
  format: number;
  chunks: number;
  hash: Uint8Array;
  metadata: Uint8Array;
}

interface Manifest {
  height: string;
  format: number;
  chunks: number;
  hash: string;
  metadata: string;
}

/**
 * Snapshots on disk, one directory per snapshot:
 *
 *   <dir>/<height>-<format>/manifest.json   height, format, chunks, hash, metadata (hex)
 *   <dir>/<height>-<format>/<index>.chunk
 *
 * A snapshot is written into `<dir>/.partial-<height>/` and renamed into place
 * when its last chunk is down, so a listed snapshot is always complete; a
 * partial directory left by a crash is removed when the store opens.
 */
export class SnapshotStore {
  private list: SnapshotInfo[] = [];

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      if (name.startsWith('.partial-')) {
        rmSync(join(dir, name), { recursive: true, force: true });
        continue;
      }
      const m = /^(\d+)-(\d+)$/.exec(name);
      if (!m) continue;
      try {
        const j = JSON.parse(readFileSync(join(dir, name, 'manifest.json'), 'utf8')) as Manifest;
        this.list.push({ height: BigInt(j.height), format: j.format, chunks: j.chunks, hash: Buffer.from(j.hash, 'hex'), metadata: Buffer.from(j.metadata, 'hex') });
      } catch {
        // not one of ours, or damaged: not offered (and left for the operator to look at)
      }
    }
    this.list.sort((a, b) => (a.height < b.height ? 1 : a.height > b.height ? -1 : 0));
  }

  /** Complete snapshots, newest first. */
  snapshots(): SnapshotInfo[] {
    return [...this.list];
  }

  /** A chunk's bytes, or undefined when this store has no such snapshot or chunk. */
  chunk(height: bigint, format: number, index: number): Buffer | undefined {
    const s = this.list.find((x) => x.height === height && x.format === format);
    if (!s || !Number.isInteger(index) || index < 0 || index >= s.chunks) return undefined;
    try {
      return readFileSync(join(this.snapshotDir(height, format), `${index}.chunk`));
    } catch {
      return undefined;
    }
  }

  has(height: bigint): boolean {
    return this.list.some((s) => s.height === height);
  }

  /** Start writing the snapshot of `height`; see SnapshotWriter. */
  begin(height: bigint): SnapshotWriter {
    const partial = join(this.dir, `.partial-${height}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial);
    return new SnapshotWriter(partial, height, (info) => {
      const final = this.snapshotDir(info.height, info.format);
      rmSync(final, { recursive: true, force: true });
      renameSync(partial, final);
      this.list = [info, ...this.list.filter((s) => !(s.height === info.height && s.format === info.format))].sort((a, b) => (a.height < b.height ? 1 : a.height > b.height ? -1 : 0));
    }, () => rmSync(partial, { recursive: true, force: true }));
  }

  /** Delete all but the newest `keep` snapshots; returns the heights deleted. */
  prune(keep: number): bigint[] {
    const gone = this.list.slice(Math.max(0, keep));
    for (const s of gone) rmSync(this.snapshotDir(s.height, s.format), { recursive: true, force: true });
    this.list = this.list.slice(0, Math.max(0, keep));
    return gone.map((s) => s.height);
  }

  private snapshotDir(height: bigint, format: number): string {
    return join(this.dir, `${height}-${format}`);
  }
}

/** Writes one snapshot's chunks as they are cut, then its manifest. */
export class SnapshotWriter {
  private chunks = 0;
  private done = false;

  constructor(
    private readonly partial: string,
    readonly height: bigint,
    private readonly publish: (info: SnapshotInfo) => void,
    private readonly discard: () => void,
  ) {}

  get chunkCount(): number {
    return this.chunks;
  }

  /** Written off the event loop (libuv's thread pool): a 4 MiB synchronous write could hold the node's thread for a disk flush. */
  async writeChunk(chunk: Uint8Array): Promise<void> {
    const index = this.chunks++;
    await writeFile(join(this.partial, `${index}.chunk`), chunk);
  }

  /** Write the manifest and make the snapshot listed. */
  finish(hash: Uint8Array, metadata: Uint8Array): SnapshotInfo {
    const info: SnapshotInfo = { height: this.height, format: SNAPSHOT_FORMAT, chunks: this.chunks, hash, metadata };
    const manifest: Manifest = { height: this.height.toString(), format: SNAPSHOT_FORMAT, chunks: this.chunks, hash: Buffer.from(hash).toString('hex'), metadata: Buffer.from(metadata).toString('hex') };
    writeFileSync(join(this.partial, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    this.done = true;
    this.publish(info);
    return info;
  }

  /** Give up: remove what was written. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (existsSync(this.partial)) this.discard();
  }
}
