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

  /** Slots of its arrays (memory: 12 bytes a slot). */
  get slots(): number {
    return this.keys.length;
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

/** How far WantedInodes.update looks ahead in the old list for an inode after removed ones. */
const WANTED_LOOKAHEAD = 32;

/**
 * A wanted inode's mark (WantedInodes): none (held, or not looked at), unknown since an earlier
 * scan, ownerless, unknown since this scan (fresh).
 */
const MARK_NONE = 0;
const MARK_UNKNOWN = 1;
const MARK_OWNERLESS = 2;
const MARK_FRESH = 3;

/** What WantedInodes.update marks unknown among the inodes it adds: those `held` says have no holder. */
export interface MarkAdded {
  readonly scan: number;
  readonly held: (inode: number) => boolean;
}

/**
 * The socket inodes one owner scan wants, kept from one scan to the next so that a scan learns
 * what changed (added, removed) without building a Set of every inode each refresh (at 100k
 * sockets ~12 ms, and ~45 ms more to walk it for unknown inodes). The lists come in the order of
 * /proc/net/*, which a refresh mostly keeps (a socket stays in its hash bucket): the new list is
 * walked beside the old one and only where they differ is the hash table asked — a steady
 * refresh touches it a few hundred times, not 100k. Open addressing over typed arrays; an inode
 * no longer wanted keeps its slot (not live) until the table is rebuilt.
 *
 * Each wanted inode also carries the owner scan's verdict when it has no holder: *unknown* (fresh:
 * marked in the current scan, or since an earlier one) or *ownerless* (an "all" pass gave up on
 * it). Kept in the inode's slot, so a scan marks, clears and counts them without a Set, and an
 * inode no longer wanted loses its mark with its slot: at 1M sockets without holders, Sets of the
 * unknown inodes rebuilt every scan cost 1.2–2.2 s a refresh.
 */
export class WantedInodes {
  private keys = new Float64Array(1024);
  private live = new Uint8Array(1024);
  /** MARK_* of each live slot. */
  private mark = new Uint8Array(1024);
  private mask = 1023;
  /** Slots holding an inode (live or not). */
  private used = 0;
  private list: ArrayLike<number> = new Float64Array(0);
  private count = 0;
  /** Inodes marked unknown (fresh or not) and ownerless. */
  private unknown = 0;
  private ownerless = 0;
  /** The scan whose marks are fresh, and the inodes marked fresh in it (some since cleared). */
  private freshScan = -1;
  private freshList: number[] = [];
  private fresh = 0;

  /** Distinct wanted inodes. */
  get size(): number {
    return this.count;
  }

  has(inode: number): boolean {
    if (inode === 0) return false;
    const i = this.slotOf(inode);
    return this.keys[i] === inode && this.live[i] === 1;
  }

  /**
   * Want exactly the non-zero values of `inodes`, which must be distinct (an InodeSet's list, a
   * snapshot's inodes). Returns the inodes that were not wanted before (added) and those no
   * longer wanted (removed, their marks gone). With `markAdded`, the added inodes without a
   * holder are marked unknown in its scan (as markUnknown, without a second look-up each). The
   * array is kept (not copied) until the next update: the caller must not change it.
   */
  update(inodes: ArrayLike<number>, markAdded?: MarkAdded): { added: number[]; removed: number[] } {
    if ((this.used + inodes.length) * 2 > this.keys.length) this.rebuild(Math.max(this.count, inodes.length));
    if (markAdded !== undefined) this.age(markAdded.scan);
    const old = this.list;
    const added: number[] = [];
    // Old inodes passed over (removed, or moved) and wanted ones met out of the old order: an
    // old inode is removed unless the new list has it out of order. Whatever the order, every
    // old inode is either matched in place or passed over, so the answer is exact.
    const skippedOld: number[] = [];
    const movedNew: number[] = [];
    let j = 0;
    let count = 0;
    for (let n = 0; n < inodes.length; n++) {
      const inode = inodes[n]!;
      if (inode === 0) continue;
      count += 1;
      while (j < old.length && old[j] === 0) j++;
      if (j < old.length && old[j] === inode) {
        j++; // the common case: same inode at the same place
        continue;
      }
      const i = this.slotOf(inode);
      if (this.keys[i] === inode && this.live[i] === 1) {
        // Wanted before, elsewhere: most often a few old inodes here were removed. Skip them if
        // this inode follows shortly; otherwise it moved (both decided below).
        const end = Math.min(old.length, j + 1 + WANTED_LOOKAHEAD);
        let k = j + 1;
        while (k < end && old[k] !== inode) k++;
        if (k < end) {
          for (; j < k; j++) if (old[j] !== 0) skippedOld.push(old[j]!);
          j++;
        } else movedNew.push(inode);
        continue;
      }
      if (this.keys[i] === 0) {
        this.keys[i] = inode;
        this.used += 1;
      }
      this.live[i] = 1;
      this.mark[i] = MARK_NONE;
      added.push(inode);
      if (markAdded !== undefined && !markAdded.held(inode)) this.markFresh(i, inode);
    }
    for (; j < old.length; j++) if (old[j] !== 0) skippedOld.push(old[j]!);
    const removed: number[] = [];
    if (skippedOld.length > 0) {
      const stay = new Set(movedNew);
      for (const inode of skippedOld) {
        if (stay.has(inode)) continue;
        const i = this.slotOf(inode);
        if (this.keys[i] === inode && this.live[i] === 1) {
          this.live[i] = 0;
          this.unmark(i);
          removed.push(inode);
        }
      }
    }
    this.list = inodes;
    this.count = count;
    return { added, removed };
  }

  /** Want nothing (the next update reports every inode as added); no marks. */
  clear(): void {
    this.keys.fill(0);
    this.live.fill(0);
    this.mark.fill(0);
    this.used = 0;
    this.list = new Float64Array(0);
    this.count = 0;
    this.unknown = 0;
    this.ownerless = 0;
    this.freshList = [];
    this.fresh = 0;
  }

  /** Wanted inodes marked unknown (fresh or not). */
  get unknownCount(): number {
    return this.unknown;
  }

  /** Wanted inodes marked ownerless. */
  get ownerlessCount(): number {
    return this.ownerless;
  }

  /** Unknown inodes marked before scan `scan` (still unknown one scan later, or more). */
  unknownBefore(scan: number): number {
    this.age(scan);
    return this.unknown - this.fresh;
  }

  /**
   * Mark a wanted inode unknown in scan `scan` (scans must not go back), unless it has a mark
   * already (unknown or ownerless). Returns whether it was marked now.
   */
  markUnknown(inode: number, scan: number): boolean {
    this.age(scan);
    const i = this.slotOf(inode);
    if (this.keys[i] !== inode || this.live[i] !== 1 || this.mark[i] !== MARK_NONE) return false;
    this.markFresh(i, inode);
    return true;
  }

  /** Mark a wanted inode ownerless (whatever its mark). */
  markOwnerless(inode: number): void {
    const i = this.slotOf(inode);
    if (this.keys[i] !== inode || this.live[i] !== 1 || this.mark[i] === MARK_OWNERLESS) return;
    this.unmark(i);
    this.mark[i] = MARK_OWNERLESS;
    this.ownerless += 1;
  }

  /** Clear the mark of an inode that has a holder now. Cheap when nothing is marked. */
  clearMark(inode: number): void {
    if (this.unknown === 0 && this.ownerless === 0) return;
    const i = this.slotOf(inode);
    if (this.keys[i] === inode && this.live[i] === 1) this.unmark(i);
  }

  /** Whether a wanted inode is marked unknown (fresh or not). */
  isUnknown(inode: number): boolean {
    const m = this.markOf(inode);
    return m === MARK_UNKNOWN || m === MARK_FRESH;
  }

  /** Whether a wanted inode is marked ownerless. */
  isOwnerless(inode: number): boolean {
    return this.markOf(inode) === MARK_OWNERLESS;
  }

  /** Every unknown inode becomes ownerless (after an "all" pass): one walk of the table. */
  unknownToOwnerless(): void {
    if (this.unknown === 0) return;
    const { mark, live } = this;
    for (let i = 0; i < mark.length; i++) {
      if (live[i] === 1 && (mark[i] === MARK_UNKNOWN || mark[i] === MARK_FRESH)) mark[i] = MARK_OWNERLESS;
    }
    this.ownerless += this.unknown;
    this.unknown = 0;
    this.freshList = [];
    this.fresh = 0;
  }

  /** The marked inodes (unknown and ownerless), in no particular order: one walk of the table. */
  marked(): number[] {
    const out: number[] = [];
    if (this.unknown === 0 && this.ownerless === 0) return out;
    const { mark, live, keys } = this;
    for (let i = 0; i < mark.length; i++) if (mark[i] !== MARK_NONE && live[i] === 1) out.push(keys[i]!);
    return out;
  }

  /** A new scan: the fresh marks of the last one become plain unknown (a walk of those only). */
  private age(scan: number): void {
    if (scan === this.freshScan) return;
    this.freshScan = scan;
    if (this.fresh > 0) {
      for (const inode of this.freshList) {
        const i = this.slotOf(inode);
        if (this.keys[i] === inode && this.live[i] === 1 && this.mark[i] === MARK_FRESH) this.mark[i] = MARK_UNKNOWN;
      }
    }
    this.freshList = [];
    this.fresh = 0;
  }

  private markFresh(i: number, inode: number): void {
    this.mark[i] = MARK_FRESH;
    this.freshList.push(inode);
    this.fresh += 1;
    this.unknown += 1;
  }

  private markOf(inode: number): number {
    if (inode === 0 || (this.unknown === 0 && this.ownerless === 0)) return MARK_NONE;
    const i = this.slotOf(inode);
    return this.keys[i] === inode && this.live[i] === 1 ? this.mark[i]! : MARK_NONE;
  }

  private unmark(i: number): void {
    const m = this.mark[i];
    if (m === MARK_NONE) return;
    this.mark[i] = MARK_NONE;
    if (m === MARK_OWNERLESS) this.ownerless -= 1;
    else {
      this.unknown -= 1;
      if (m === MARK_FRESH) this.fresh -= 1;
    }
  }

  /** The slot of `inode`, or the empty slot where it would go. */
  private slotOf(inode: number): number {
    const { keys, mask } = this;
    let i = (Math.imul(inode | 0, 0x9e3779b1) ^ ((inode / 0x100000000) | 0)) & mask;
    for (;;) {
      const k = keys[i]!;
      if (k === inode || k === 0) return i;
      i = (i + 1) & mask;
    }
  }

  /** New arrays for `expected` inodes, keeping only the live ones (and their marks). */
  private rebuild(expected: number): void {
    const { keys, live, mark } = this;
    let size = 1024;
    while (size < expected * 4) size *= 2;
    this.keys = new Float64Array(size);
    this.live = new Uint8Array(size);
    this.mark = new Uint8Array(size);
    this.mask = size - 1;
    this.used = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0 || live[i] !== 1) continue;
      const j = this.slotOf(keys[i]!);
      this.keys[j] = keys[i]!;
      this.live[j] = 1;
      this.mark[j] = mark[i]!;
      this.used += 1;
    }
  }
}
