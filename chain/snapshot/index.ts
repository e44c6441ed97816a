/** State-sync snapshots: format, on-disk store, the snapshot taker and the restorer (README.md). */
export { SNAPSHOT_FORMAT, CHUNK_BYTES, ChunkWriter, ChunkReader, encodeMetadata, decodeMetadata, SnapshotFormatError, type SnapshotMeta } from './format.js';
export { SnapshotStore, SnapshotWriter, type SnapshotInfo } from './store.js';
export { Snapshotter, SNAPSHOT_SLICE_ENTRIES, type SnapshotterOptions } from './snapshotter.js';
export { SnapshotRestorer, type OfferResult, type ApplyChunkResult, type OfferOutcome, type ApplyOutcome, type RestoredState } from './restorer.js';
