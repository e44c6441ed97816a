import { hash as nodeHash } from 'node:crypto';

/**
 * The app hash: a Merkle tree over the whole state whose shape depends only on
 * the set of keys, never on history.
 *
 *   leaf    = sha256(0x00 ‖ u32be(len key) ‖ key ‖ value)
 *   keys    = sha256(0x03 ‖ u32be(len key₁) ‖ key₁ ‖ … ‖ u32be(len keyₙ) ‖ keyₙ)
 *   bucket  = sha256(0x01 ‖ keys ‖ leaf₁ ‖ … ‖ leafₙ)  over the bucket's keys in byte order
 *   node    = sha256(0x02 ‖ child₀ ‖ … ‖ child₁₅) (16-ary)
 *   empty bucket or node whose children are all empty = 32 zero bytes
 *
 * The bucket hash commits to its key list, not only to its leaves, so a proof
 * of absence cannot hide a present key by renaming its entry (a leaf alone
 * does not reveal its key). The key digest is cached per bucket and only
 * recomputed when a key is added or removed, so value updates cost nothing
 * extra.
 *
 *   split   = sha256(0x05 ‖ child₀ ‖ … ‖ child₁₅)  a bucket of more than MAX_FLAT keys, its children by
 *             the nibble of sha256(key) at its depth (recursively; each child a bucket or a split)
 *
 * A key lives in bucket fnv1a(key) mod 2^16; 65,536 buckets under a 16-ary tree
 * of depth 4. Updating k keys rehashes at most k leaves, k buckets and the
 * inner nodes above them (≤ 4,369 in all), so Commit grows with the change
 * set, not with the state. A proof of a key is its bucket's (key, leaf) list
 * plus 15 siblings per level (see prove/verifyProof).
 */
export const BUCKET_BITS = 16;
const NB = 1 << BUCKET_BITS;
const FANOUT = 16;
const LEVELS = 4; // 16^4 = 65,536
const ZERO = Buffer.alloc(32);
const ZERO_CHILDREN = Buffer.alloc(32 * FANOUT);
/** An empty bucket's buffer: the tag and room for the keys digest (shared; copied before the first write). */
const BUCKET_HEAD = Buffer.from([1, ...new Array<number>(32).fill(0)]);
/** Bytes of one group of 16 sibling hashes in a level buffer: the inner-node tag, then the 16 hashes. */
const GROUP = 1 + 32 * FANOUT;

export function sha256(data: Uint8Array): Buffer {
  return nodeHash('sha256', data, 'buffer') as Buffer;
}

export function bucketOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 16) ^ h) & (NB - 1);
}

/**
 * Whether `leaf` is leafHash(key, value), without allocating a Buffer for the
 * digest: startup checks every stored leaf (millions), and one ArrayBuffer per
 * check made garbage collection a large part of a restart.
 */
export function leafMatches(key: string, value: Uint8Array, leaf: Uint8Array): boolean {
  if (leaf.length !== 32) return false;
  const d = nodeHash('sha256', leafInputOf(key, value), 'binary'); // latin1: one char per byte
  for (let i = 0; i < 32; i++) if (d.charCodeAt(i) !== leaf[i]) return false;
  return true;
}

/** leafHash's input is assembled here: one buffer reused by every call instead of one allocation per leaf. */
let leafInput = Buffer.allocUnsafeSlow(1024);

export function leafHash(key: string, value: Uint8Array): Buffer {
  return sha256(leafInputOf(key, value));
}

/** leafHash(key, value) written into target[at, at+32), without a Buffer per leaf. */
export function leafHashInto(key: string, value: Uint8Array, target: Uint8Array, at: number): void {
  sha256Into(leafInputOf(key, value), target, at);
}

/** 0x00 ‖ u32be(len key) ‖ key ‖ value, in the shared input buffer (valid until the next call). */
function leafInputOf(key: string, value: Uint8Array): Buffer {
  const klen = key.length;
  const n = 5 + klen + value.length;
  if (n > leafInput.length) leafInput = Buffer.allocUnsafeSlow(2 * n);
  const buf = leafInput;
  buf[0] = 0;
  buf.writeUInt32BE(klen, 1);
  // keys are latin1 (one byte per char); a plain loop beats Buffer#write's encoding dispatch for short keys
  for (let i = 0; i < klen; i++) buf[5 + i] = key.charCodeAt(i);
  buf.set(value, 5 + klen);
  return buf.subarray(0, n);
}

/**
 * The leaf hashes of a change set (null for a delete), as [key, value, leaf]:
 * every leaf is a 32-byte view into one buffer for the whole set, so a block
 * of 10,000 changes makes one allocation instead of 10,000.
 */
export function withLeafHashes<V extends Uint8Array>(changes: ReadonlyArray<readonly [string, V | null]>): Array<[string, V | null, Uint8Array | null]> {
  const leaves = Buffer.allocUnsafeSlow(32 * changes.length);
  const out: Array<[string, V | null, Uint8Array | null]> = [];
  for (let i = 0; i < changes.length; i++) {
    const [key, value] = changes[i]!;
    if (value === null) {
      out.push([key, null, null]);
      continue;
    }
    sha256Into(leafInputOf(key, value), leaves, 32 * i);
    out.push([key, value, leaves.subarray(32 * i, 32 * i + 32)]);
  }
  return out;
}

/**
 * sha256(data) written into target[at, at+32). The digest comes back as a
 * 32-char latin1 string, not a Buffer: a string is a plain heap object, while
 * every Buffer result is an ArrayBuffer with its own off-heap allocation,
 * which made each of the tree's ~25,000 hashes per 10,000-key block cost up
 * to twice as much.
 */
function sha256Into(data: Uint8Array, target: Uint8Array, at: number): void {
  const d = nodeHash('sha256', data, 'binary'); // 'binary' = latin1: one char per byte
  for (let i = 0; i < 32; i++) target[at + i] = d.charCodeAt(i);
}

/** sha256(0x03 ‖ u32be(len key₁) ‖ key₁ ‖ …): commits a bucket to its (sorted) key list. */
export function keysDigest(keys: readonly string[]): Buffer {
  let n = 1;
  for (const k of keys) n += 4 + k.length;
  const buf = Buffer.allocUnsafe(n);
  buf[0] = 3;
  let o = 1;
  for (const k of keys) {
    buf.writeUInt32BE(k.length, o);
    buf.write(k, o + 4, 'latin1');
    o += 4 + k.length;
  }
  return sha256(buf);
}

/**
 * A bucket's keys and leaf hashes. The leaves live in one buffer laid out as
 * the bucket hash's input, [0x01 | keys digest | leaf₁ | … | leafₙ], so
 * hashing a bucket copies nothing.
 */
class Bucket {
  keys: string[] = [];
  private buf: Buffer = BUCKET_HEAD;
  /** Whether buf[1..33] holds keysDigest(keys) (false once the key list changed). */
  private digestOk = false;

  /** The leaf hashes, in key order (a view). */
  get leaves(): Buffer {
    this.flush();
    return this.buf.subarray(33);
  }

  indexOf(key: string): { found: boolean; at: number } {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.keys[mid]!;
      if (k === key) return { found: true, at: mid };
      if (k < key) lo = mid + 1;
      else hi = mid;
    }
    return { found: false, at: lo };
  }

  /** Set a key's leaf; true when the key is new here. */
  put(key: string, leaf: Uint8Array): boolean {
    this.flush();
    const { found, at } = this.indexOf(key);
    const o = 33 + at * 32;
    if (found) {
      this.buf.set(leaf, o);
      return false;
    }
    this.keys.splice(at, 0, key);
    this.digestOk = false;
    const next = Buffer.allocUnsafe(this.buf.length + 32);
    this.buf.copy(next, 0, 0, o);
    next.set(leaf, o);
    this.buf.copy(next, o + 32, o);
    this.buf = next;
    return true;
  }

  /** Remove a key; true when it was here. */
  remove(key: string): boolean {
    this.flush();
    const { found, at } = this.indexOf(key);
    if (!found) return false;
    const o = 33 + at * 32;
    this.keys.splice(at, 1);
    this.digestOk = false;
    const next = Buffer.allocUnsafe(this.buf.length - 32);
    this.buf.copy(next, 0, 0, o);
    this.buf.copy(next, o, o + 32);
    this.buf = next;
    return true;
  }

  get count(): number {
    return this.keys.length;
  }

  /**
   * A bulk load's buffer ([tag | digest | leaves…], with spare room; see append) and how much of it
   * is used; joined into `buf` by flush().
   */
  private loading: Buffer | undefined;
  private loadingLength = 0;

  /**
   * Append a key known to sort after every key already here (bulk load in key order); flush() before
   * use. The leaf is copied at once into a buffer that doubles as it fills: keeping the caller's
   * 32-byte views until the flush meant millions of objects surviving into the old generation on a
   * restart, which garbage collection then paid for.
   */
  append(key: string, leaf: Uint8Array): void {
    let b = this.loading;
    if (!b) {
      b = this.loading = Buffer.allocUnsafe(this.buf.length + 8 * 32);
      this.buf.copy(b, 0);
      this.loadingLength = this.buf.length;
    } else if (this.loadingLength + 32 > b.length) {
      const next = Buffer.allocUnsafe(2 * b.length);
      b.copy(next, 0, 0, this.loadingLength);
      b = this.loading = next;
    }
    b.set(leaf, this.loadingLength);
    this.loadingLength += 32;
    this.keys.push(key);
    this.digestOk = false;
  }

  /** End a bulk load: the loaded leaves become the bucket's buffer, copied to its exact size. */
  flush(): void {
    if (!this.loading) return;
    this.buf = Buffer.from(this.loading.subarray(0, this.loadingLength));
    this.loading = undefined;
  }

  /** Write the bucket's hash into target[at, at+32) (zeros when empty). */
  hashInto(target: Buffer, at: number): void {
    if (this.keys.length === 0) {
      target.fill(0, at, at + 32);
      return;
    }
    this.flush();
    if (!this.digestOk) {
      if (this.buf === BUCKET_HEAD) this.buf = Buffer.from(BUCKET_HEAD); // never write into the shared empty head
      keysDigest(this.keys).copy(this.buf, 1);
      this.digestOk = true;
    }
    sha256Into(this.buf, target, at);
  }
}

/**
 * Most keys a flat bucket holds. A bucket with more is split 16 ways by the
 * next nibble of sha256(key) (recursively), so a bucket's insert and rehash
 * cost stay logarithmic however many keys land in it: a key's top-level
 * bucket comes from a fast hash that a user can grind (a client id, an
 * address), and one flat bucket of 74,000 forced keys made every block that
 * touched it take seconds. The form is a function of the key count, so the
 * tree still depends only on the set of keys. At 2,000,000 keys a bucket
 * holds 30 on average and essentially never passes 64: states of that size
 * hash as they did before splitting existed.
 */
export const MAX_FLAT = 64;
/** sha256 has 64 nibbles: a split node at this depth could not split its children further. */
const MAX_SPLIT_DEPTH = 63;
/** The tag of a split node's hash input: sha256(0x05 ‖ child₀ ‖ … ‖ child₁₅), an empty child 32 zero bytes. */
const SPLIT_TAG = 5;

/** Nibble `depth` of sha256(key): where a key goes in a split bucket at that depth. */
export function positionNibble(key: string, depth: number): number {
  const h = positionHash(key);
  const b = h[depth >>> 1]!;
  return depth & 1 ? b & 15 : b >>> 4;
}

let posKey = '';
let posHash: Buffer = ZERO;
/** sha256 of a key's bytes (the key's position below its bucket); the last one is kept (a split routes one key at several depths). */
function positionHash(key: string): Buffer {
  if (key !== posKey || posHash === ZERO) {
    const n = key.length;
    if (n > leafInput.length) leafInput = Buffer.allocUnsafeSlow(2 * n);
    for (let i = 0; i < n; i++) leafInput[i] = key.charCodeAt(i);
    posHash = sha256(leafInput.subarray(0, n));
    posKey = key;
  }
  return posHash;
}

type Node = Bucket | SplitBucket;

/** A bucket of more than MAX_FLAT keys: 16 children by the nibble of sha256(key) at this depth. */
class SplitBucket {
  readonly children: Array<Node | undefined> = new Array(FANOUT);
  /** [0x05 | h₀ | … | h₁₅]: the children's hashes, exactly this node's hash input. */
  private readonly input = Buffer.alloc(1 + 32 * FANOUT);
  /** Children whose hash in `input` is out of date (bit i). */
  private dirty = 0;
  count = 0;

  constructor(readonly depth: number) {
    this.input[0] = SPLIT_TAG;
  }

  /** The split form of a flat bucket (its keys in order, so each child's appends stay in order). */
  static of(flat: Bucket, depth: number): SplitBucket {
    const s = new SplitBucket(depth);
    const leaves = flat.leaves;
    for (let i = 0; i < flat.keys.length; i++) s.append(flat.keys[i]!, leaves.subarray(32 * i, 32 * i + 32));
    s.normalize();
    return s;
  }

  /** All keys and leaves below, in key order (children partition by hash, so they are merged). */
  collect(out: Array<[string, Uint8Array]>): void {
    for (const c of this.children) {
      if (!c) continue;
      if (c instanceof SplitBucket) c.collect(out);
      else {
        const leaves = c.leaves;
        for (let i = 0; i < c.keys.length; i++) out.push([c.keys[i]!, leaves.subarray(32 * i, 32 * i + 32)]);
      }
    }
  }

  /** The flat form (when the count fell to MAX_FLAT or below). */
  toFlat(): Bucket {
    const all: Array<[string, Uint8Array]> = [];
    this.collect(all);
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const f = new Bucket();
    for (const [k, leaf] of all) f.append(k, leaf);
    f.flush();
    return f;
  }

  private childFor(key: string): number {
    return positionNibble(key, this.depth);
  }

  put(key: string, leaf: Uint8Array): boolean {
    const i = this.childFor(key);
    let c = this.children[i];
    if (!c) this.children[i] = c = new Bucket();
    const added = c.put(key, leaf);
    this.children[i] = reshape(c, this.depth + 1);
    this.dirty |= 1 << i;
    if (added) this.count++;
    return added;
  }

  remove(key: string): boolean {
    const i = this.childFor(key);
    const c = this.children[i];
    if (!c || !c.remove(key)) return false;
    this.children[i] = c.count === 0 ? undefined : reshape(c, this.depth + 1);
    this.dirty |= 1 << i;
    this.count--;
    return true;
  }

  /** Bulk load in key order (normalize() afterwards). */
  append(key: string, leaf: Uint8Array): void {
    const i = this.childFor(key);
    let c = this.children[i];
    if (!c) this.children[i] = c = new Bucket();
    c.append(key, leaf);
    this.dirty |= 1 << i;
    this.count++;
  }

  /** After a bulk load: every child in its form for its count. */
  normalize(): void {
    for (let i = 0; i < FANOUT; i++) {
      const c = this.children[i];
      if (!c) continue;
      c.flush();
      if (c instanceof SplitBucket) c.normalize();
      this.children[i] = reshape(c, this.depth + 1);
    }
  }

  flush(): void {
    this.normalize();
  }

  hashInto(target: Buffer, at: number): void {
    for (let i = 0; this.dirty !== 0 && i < FANOUT; i++) {
      if (!(this.dirty & (1 << i))) continue;
      const c = this.children[i];
      if (c) c.hashInto(this.input, 1 + 32 * i);
      else this.input.fill(0, 1 + 32 * i, 33 + 32 * i);
    }
    this.dirty = 0;
    sha256Into(this.input, target, at);
  }

  /** The 16 child hashes (hex) of this node, for a proof (hashInto must have run since the last change). */
  row(): string[] {
    const out: string[] = [];
    for (let i = 0; i < FANOUT; i++) out.push(this.input.subarray(1 + 32 * i, 33 + 32 * i).toString('hex'));
    return out;
  }
}

/** The form a node should have for its count: split above MAX_FLAT keys (while sha256 has nibbles left), flat otherwise. */
function reshape(n: Node, depth: number): Node {
  if (n instanceof SplitBucket) return n.count <= MAX_FLAT ? n.toFlat() : n;
  return n.count > MAX_FLAT && depth <= MAX_SPLIT_DEPTH ? SplitBucket.of(n, depth) : n;
}

/** Inner nodes at depth 3 (each over 16 buckets): state-sync snapshots verify a restored state group by group. */
export const GROUPS = NB / FANOUT;

/** The depth-3 node a bucket hangs under. */
export function groupOf(bucket: number): number {
  return bucket >>> 4;
}

/**
 * The hash of depth-3 node `group` over exactly `entries` (key and leaf), which must be all of that group's
 * entries in (bucket, key) order: the value the tree holds there (zeros when the group is empty). Built with
 * the tree's own bucket code, so a split bucket hashes as it does in the tree.
 */
export function groupHash(group: number, entries: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  const input = Buffer.alloc(GROUP);
  input[0] = 2;
  let i = 0;
  for (let slot = 0; slot < FANOUT; slot++) {
    const b = group * FANOUT + slot;
    let node: Node = new Bucket();
    for (; i < entries.length && bucketOf(entries[i]![0]) === b; i++) (node as Bucket).append(entries[i]![0], entries[i]![1]);
    node.flush();
    node = reshape(node, 0);
    node.hashInto(input, 1 + 32 * slot);
  }
  if (i !== entries.length) throw new Error(`groupHash: entry "${entries[i]![0]}" is not in group ${group} in (bucket, key) order`);
  return input.compare(ZERO_CHILDREN, 0, ZERO_CHILDREN.length, 1, GROUP) === 0 ? Buffer.from(ZERO) : sha256(input);
}

/** The root over all GROUPS depth-3 hashes (32 bytes each, in order), by the tree's rules: what MerkleIndex.root() is for the same state. */
export function rootOfGroups(groupHashes: Uint8Array): Buffer {
  if (groupHashes.length !== GROUPS * 32) throw new Error(`rootOfGroups: ${groupHashes.length} bytes, expected ${GROUPS * 32}`);
  let level = Buffer.from(groupHashes);
  while (level.length > 32) {
    const parents = Buffer.alloc(level.length / FANOUT);
    const input = Buffer.alloc(GROUP);
    input[0] = 2;
    for (let p = 0; p < parents.length / 32; p++) {
      level.copy(input, 1, p * 32 * FANOUT, (p + 1) * 32 * FANOUT);
      if (input.compare(ZERO_CHILDREN, 0, ZERO_CHILDREN.length, 1, GROUP) !== 0) sha256(input).copy(parents, p * 32);
    }
    level = parents;
  }
  return level;
}

export interface MerkleProof {
  key: string;
  bucket: number;
  /**
   * When the bucket is split (more than MAX_FLAT keys): from the bucket down, the 16 child hashes (hex) of
   * each split node on the key's path (the child is the nibble of sha256(key) at that depth). Empty otherwise.
   */
  inner: string[][];
  /** The keys and leaf hashes (hex), in key order, of the flat bucket on the key's path. */
  entries: Array<{ key: string; leaf: string }>;
  /** For each level from the bucket up: the 16 child hashes (hex) of the parent node. */
  levels: string[][];
  root: string;
}

export class MerkleIndex {
  private readonly buckets: Array<Node | undefined> = new Array(NB);
  /**
   * levelHashes[LEVELS] = bucket hashes … levelHashes[1] = the root's 16 children; each level stored as groups
   * of 16 siblings, [0x02 | h₀ | … | h₁₅] per group, which is exactly their parent's hash input (no copying).
   */
  private readonly levelHashes: Buffer[] = [];
  private rootHash: Buffer = ZERO;
  /** No key ever added to the tree sorts above this one (deletes do not lower it: it is a bound). */
  private maxKey = '';

  constructor() {
    this.levelHashes.push(Buffer.alloc(0)); // level 0 is rootHash
    for (let l = 1; l <= LEVELS; l++) {
      const groups = FANOUT ** (l - 1);
      const b = Buffer.alloc(groups * GROUP);
      for (let g = 0; g < groups; g++) b[g * GROUP] = 2;
      this.levelHashes.push(b);
    }
  }

  /** Offset of hash i in a level buffer. */
  private static at(i: number): number {
    return (i >>> 4) * GROUP + 1 + (i & 15) * 32;
  }

  /** Set (value) or delete (null) the leaves of a change set, then rehash what they touched. */
  update(changes: ReadonlyArray<readonly [string, Uint8Array | null]>): void {
    this.updateLeaves(withLeafHashes(changes));
  }

  /** Like update(), with the leaf hashes already computed (null = delete): the App hashes each change once. */
  updateLeaves(changes: Iterable<readonly [string, Uint8Array | null, ...unknown[]]>): void {
    const dirty = new Set<number>();
    for (const c of changes) {
      const key = c[0];
      const leaf = c[c.length - 1] as Uint8Array | null;
      const b = bucketOf(key);
      let bucket = this.buckets[b];
      if (leaf === null) {
        if (!bucket) continue;
        if (bucket.remove(key) && bucket instanceof SplitBucket) this.buckets[b] = reshape(bucket, 0);
      } else {
        if (!bucket) this.buckets[b] = bucket = new Bucket();
        if (bucket.put(key, leaf) && bucket.count > MAX_FLAT) this.buckets[b] = reshape(bucket, 0);
        if (key > this.maxKey) this.maxKey = key;
      }
      dirty.add(b);
    }
    this.rehash(dirty);
  }

  /** Bulk load precomputed leaves (startup from disk); call rebuild() afterwards. */
  loadLeaf(key: string, leaf: Uint8Array): void {
    const b = bucketOf(key);
    let bucket = this.buckets[b];
    if (!bucket) this.buckets[b] = bucket = new Bucket();
    if (bucket instanceof SplitBucket) {
      bucket.put(key, leaf); // (only when loading over an index that already had this many keys here)
      if (key > this.maxKey) this.maxKey = key;
      return;
    }
    // Loading in key order makes every insert an append. A key above every key ever added is known
    // to sort last in its bucket without reading the bucket's last key (a cache miss per key when
    // millions are loaded).
    if (key > this.maxKey) {
      this.maxKey = key;
      bucket.append(key, leaf);
      return;
    }
    const n = bucket.keys.length;
    if (n === 0 || bucket.keys[n - 1]! < key) bucket.append(key, leaf);
    else bucket.put(key, leaf);
  }

  rebuild(): void {
    const all = new Set<number>();
    for (let b = 0; b < NB; b++) {
      const bucket = this.buckets[b];
      if (!bucket) continue;
      bucket.flush();
      this.buckets[b] = reshape(bucket, 0); // a bulk load appends without splitting
      all.add(b);
    }
    this.rehash(all);
  }

  private rehash(dirtyBuckets: Set<number>): void {
    const bottom = this.levelHashes[LEVELS]!;
    let dirty = new Set<number>();
    for (const b of dirtyBuckets) {
      const bucket = this.buckets[b];
      if (bucket) bucket.hashInto(bottom, MerkleIndex.at(b));
      else bottom.fill(0, MerkleIndex.at(b), MerkleIndex.at(b) + 32);
      if (bucket && bucket.count === 0) this.buckets[b] = undefined;
      dirty.add(b >>> 4);
    }
    for (let l = LEVELS - 1; l >= 0; l--) {
      const child = this.levelHashes[l + 1]!;
      const next = new Set<number>();
      for (const n of dirty) {
        const start = n * GROUP;
        const empty = child.compare(ZERO_CHILDREN, 0, ZERO_CHILDREN.length, start + 1, start + GROUP) === 0;
        if (l === 0) this.rootHash = empty ? ZERO : sha256(child.subarray(start, start + GROUP));
        else {
          const at = MerkleIndex.at(n);
          if (empty) this.levelHashes[l]!.fill(0, at, at + 32);
          else sha256Into(child.subarray(start, start + GROUP), this.levelHashes[l]!, at);
        }
        next.add(n >>> 4);
      }
      dirty = next;
    }
  }

  root(): Buffer {
    return Buffer.from(this.rootHash);
  }

  prove(key: string): MerkleProof {
    const b = bucketOf(key);
    let node = this.buckets[b];
    // down through split nodes to the flat bucket on the key's path (hashes are current: rehash ran at update)
    const inner: string[][] = [];
    while (node instanceof SplitBucket) {
      inner.push(node.row());
      node = node.children[positionNibble(key, node.depth)];
    }
    node?.flush();
    const leaves = node?.leaves;
    const flat = node;
    const entries = flat && leaves ? flat.keys.map((k, i) => ({ key: k, leaf: leaves.subarray(i * 32, i * 32 + 32).toString('hex') })) : [];
    const levels: string[][] = [];
    let idx = b;
    for (let l = LEVELS; l >= 1; l--) {
      const parent = idx >>> 4;
      const kids = this.levelHashes[l]!;
      const row: string[] = [];
      for (let i = 0; i < FANOUT; i++) {
        const o = MerkleIndex.at(parent * FANOUT + i);
        row.push(kids.subarray(o, o + 32).toString('hex'));
      }
      levels.push(row);
      idx = parent;
    }
    return { key, bucket: b, inner, entries, levels, root: this.root().toString('hex') };
  }
}

function isHash(x: unknown): boolean {
  return typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
}

/** Whether every char of `key` is one byte (the tree hashes a key's chars as bytes). */
export function isLatin1(key: unknown): boolean {
  if (typeof key !== 'string') return false;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0xff) return false;
  return true;
}

function hashChildren(kids: Buffer[], tag: number): Buffer {
  if (kids.every((k) => k.equals(ZERO))) return ZERO;
  return sha256(Buffer.concat([Buffer.from([tag]), ...kids]));
}

/**
 * Verify that `value` (or absence, with null) is what the tree with `root` holds at `proof.key`.
 * Pure function: a light client needs only this and the app hash of a block.
 */
export function verifyProof(proof: MerkleProof, value: Uint8Array | null, root: Uint8Array): boolean {
  // The proof's shape is checked before any hash: the path must be exactly LEVELS rows of FANOUT 32-byte
  // hashes (a short path, or siblings of other lengths re-split around the checked slot, would let a
  // node place an empty or foreign bucket where the key's bucket is and prove a present key absent),
  // and every entry must belong to the proof's bucket. Keys are hashed one byte per char, so only
  // latin1 keys are provable (a wider char would alias its low byte).
  if (!isLatin1(proof.key) || bucketOf(proof.key) !== proof.bucket) return false;
  if (!Array.isArray(proof.levels) || proof.levels.length !== LEVELS) return false;
  if (!proof.levels.every((row) => Array.isArray(row) && row.length === FANOUT && row.every(isHash))) return false;
  if (!Array.isArray(proof.inner) || proof.inner.length > MAX_SPLIT_DEPTH + 1) return false;
  if (!proof.inner.every((row) => Array.isArray(row) && row.length === FANOUT && row.every(isHash))) return false;
  // every entry on the key's path: its bucket, and below a split bucket the same nibbles of sha256(key)
  const onPath = (k: string) => bucketOf(k) === proof.bucket && proof.inner.every((_, d) => positionNibble(k, d) === positionNibble(proof.key, d));
  if (!Array.isArray(proof.entries) || !proof.entries.every((e) => isHash(e.leaf) && isLatin1(e.key) && onPath(e.key))) return false;
  // a flat bucket holds at most MAX_FLAT keys, and a split node more than that (so never all-empty children)
  if (proof.entries.length > MAX_FLAT) return false;
  const entry = proof.entries.find((e) => e.key === proof.key);
  if (value === null) {
    if (entry) return false;
  } else if (!entry || entry.leaf !== leafHash(proof.key, value).toString('hex')) return false;
  for (let i = 1; i < proof.entries.length; i++) if (!(proof.entries[i - 1]!.key < proof.entries[i]!.key)) return false;
  let h =
    proof.entries.length === 0
      ? ZERO
      : sha256(Buffer.concat([Buffer.from([1]), keysDigest(proof.entries.map((e) => e.key)), ...proof.entries.map((e) => Buffer.from(e.leaf, 'hex'))]));
  for (let d = proof.inner.length - 1; d >= 0; d--) {
    const kids = proof.inner[d]!.map((x) => Buffer.from(x, 'hex'));
    if (!kids[positionNibble(proof.key, d)]!.equals(h) || kids.every((k) => k.equals(ZERO))) return false;
    h = sha256(Buffer.concat([Buffer.from([SPLIT_TAG]), ...kids]));
  }
  let idx = proof.bucket;
  for (const row of proof.levels) {
    const kids = row.map((x) => Buffer.from(x, 'hex'));
    if (!kids[idx % FANOUT]!.equals(h)) return false;
    h = hashChildren(kids, 2);
    idx = idx >>> 4;
  }
  return h.equals(Buffer.from(root));
}
