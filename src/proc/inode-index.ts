// A number → row index for socket inodes, without a Map: see InodeIndex.

/**
 * Row index by socket inode (de-duplicating a snapshot, re-synchronising a reusing parse): open
 * addressing over typed arrays, several times cheaper than a Map at 100k sockets. Inodes are
 * unsigned longs, kept exactly in a double; 0 is never stored.
 */
export class InodeIndex {
  private keys: Float64Array;
  private rows: Int32Array;
  private mask: number;

  constructor(expected: number) {
    const size = InodeIndex.sizeFor(expected);
    this.keys = new Float64Array(size); // 0 = empty (inode 0 is never stored)
    this.rows = new Int32Array(size);
    this.mask = size - 1;
  }

  private static sizeFor(expected: number): number {
    let size = 1024;
    while (size < expected * 2) size *= 2;
    return size;
  }

  /**
   * Empty the index for `expected` rows, keeping its arrays when they are large enough (a
   * refresh then allocates none: at 100k sockets they are 3 MB).
   */
  reset(expected: number): this {
    const size = InodeIndex.sizeFor(expected);
    if (size > this.keys.length) {
      this.keys = new Float64Array(size);
      this.rows = new Int32Array(size);
      this.mask = size - 1;
    } else this.keys.fill(0);
    return this;
  }

  /** The row stored for `inode`, or -1 (nothing stored). */
  get(inode: number): number {
    const { keys, mask } = this;
    let i = (Math.imul(inode | 0, 0x9e3779b1) ^ ((inode / 0x100000000) | 0)) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === inode) return this.rows[i]!;
      if (k === 0) return -1;
      i = (i + 1) & mask;
    }
  }

  /** The row stored for `inode`, or -1 after storing `row` for it. */
  getOrSet(inode: number, row: number): number {
    const { keys, mask } = this;
    let i = (Math.imul(inode | 0, 0x9e3779b1) ^ ((inode / 0x100000000) | 0)) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === inode) return this.rows[i]!;
      if (k === 0) {
        keys[i] = inode;
        this.rows[i] = row;
        return -1;
      }
      i = (i + 1) & mask;
    }
  }
}

/** Scratch index for InodeSet's de-duplication (used synchronously, reset each time). */
let dedupeScratch: InodeIndex | null = null;

/**
 * A read-only set of socket inodes over typed arrays: the list (first-seen order, no 0, no
 * duplicates) and, once `has` is asked, an InodeIndex. What a refresh hands the owner scan instead
 * of a Set<number>: at 100k sockets building the Set allocated ~5 MB of hash tables a refresh (large
 * objects, kept until a major GC), turning it into the Float64Array posted to the owner worker
 * another ~6 MB of iterator garbage, and the worker built the same Set again.
 */
export class InodeSet implements ReadonlySet<number> {
  private index: InodeIndex | null = null;

  /** `inodes`: distinct non-zero inodes (see InodeSet.of). */
  private constructor(readonly inodes: Float64Array) {}

  /** The distinct non-zero inodes of `entries`, in their order. */
  static ofEntries(entries: readonly { readonly inode: number }[]): InodeSet {
    const list = new Float64Array(entries.length);
    const seen = (dedupeScratch ??= new InodeIndex(0)).reset(entries.length);
    let count = 0;
    for (let i = 0; i < entries.length; i++) {
      const inode = entries[i]!.inode;
      if (inode !== 0 && seen.getOrSet(inode, count) < 0) list[count++] = inode;
    }
    return new InodeSet(count === list.length ? list : list.subarray(0, count));
  }

  /** `inodes` as they are: distinct and non-zero, not checked (the rows of a de-duplicated snapshot). */
  static ofDistinct(inodes: Float64Array): InodeSet {
    return new InodeSet(inodes);
  }

  /** The distinct non-zero values of `inodes`, in their order (the array is kept when it has neither 0 nor duplicates). */
  static of(inodes: Float64Array): InodeSet {
    const seen = (dedupeScratch ??= new InodeIndex(0)).reset(inodes.length);
    let count = 0;
    let list = inodes;
    for (let i = 0; i < inodes.length; i++) {
      const inode = inodes[i]!;
      if (inode !== 0 && seen.getOrSet(inode, count) < 0) {
        if (list !== inodes) list[count] = inode;
        count++;
      } else if (list === inodes) {
        // The first zero or duplicate: from here on the distinct values go to a copy.
        list = new Float64Array(inodes.length);
        list.set(inodes.subarray(0, count));
      }
    }
    if (list !== inodes) list = list.subarray(0, count);
    return new InodeSet(list);
  }

  get size(): number {
    return this.inodes.length;
  }

  has(inode: number): boolean {
    if (inode === 0 || typeof inode !== 'number') return false;
    if (this.index === null) {
      const index = new InodeIndex(this.inodes.length);
      for (let i = 0; i < this.inodes.length; i++) index.getOrSet(this.inodes[i]!, i);
      this.index = index;
    }
    return this.index.get(inode) >= 0;
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this.inodes.values();
  }

  values(): IterableIterator<number> {
    return this.inodes.values();
  }

  keys(): IterableIterator<number> {
    return this.inodes.values();
  }

  *entries(): IterableIterator<[number, number]> {
    for (const inode of this.inodes) yield [inode, inode];
  }

  forEach(callback: (value: number, key: number, set: ReadonlySet<number>) => void, thisArg?: unknown): void {
    for (const inode of this.inodes) callback.call(thisArg, inode, inode, this);
  }
}

/** The inodes of `wanted` as a new array (to post to the owner worker): a copy of an InodeSet's list, without iterating it. */
export function inodeArrayOf(wanted: ReadonlySet<number>): Float64Array<ArrayBuffer> {
  return wanted instanceof InodeSet ? wanted.inodes.slice() : Float64Array.from(wanted);
}
