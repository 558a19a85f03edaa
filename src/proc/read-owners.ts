// read*: map socket inodes to the processes holding them, through /proc/<pid>/fd/<n> links
// ("socket:[12345]"), incrementally across refreshes. All access goes through a ProcFs.
//
// Cost model (measured on Linux 6.x): readlink of one /proc/<pid>/fd/<n> ≈ 7 µs, listing a
// /proc/<pid>/fd directory ≈ 1.6 µs per entry, one stat(2) ≈ 5 µs. A first scan lists every
// fd directory and reads every link; later scans do, in order:
//
//  1. Change detection per pid: one stat of /proc/<pid>/fd. On Linux >= 6.2 its st_size is the
//     number of open fds (checked on the first scan: "auto"); an unchanged count skips the pid.
//     Otherwise the directory is listed and only fd numbers not seen before are readlink'ed.
//     Its st_ino also identifies the process: a new inode means the pid may have been reused,
//     confirmed by field 22 of /proc/<pid>/stat (start time, clock ticks since boot).
//  2. Vanished sockets: links whose cached inode was wanted last time but is not any more are
//     read again — a closed socket's fd number is exactly where the next accept() lands.
//  3. Rolling re-verification: a round re-reads every link cached when it starts, plus every
//     pid's comm/cmdline/uid (exec, setuid), spread over `reverifyEveryScans` (N) scans:
//     ceil(queue / N) items a scan. Links added during a round were just read and join the next
//     one, so no link goes unread for more than 2N scans. This bounds how long a stale owner can
//     live when change detection by fd number cannot see a close+reuse (a socket passed away or
//     shared, its fd reused for a file) — the price is ~1/N of a full scan on every refresh.
//  4. If wanted inodes are still unknown: "changed" pass over pids whose fd set changed, then an
//     "all" pass over every pid (listing each fd directory). Both read only *suspect* links —
//     not a socket, a socket no longer wanted, or a socket held by several fds — because a link
//     cached as a wanted socket with a single holder cannot have been reused while that socket
//     still exists. Inodes still unknown after an "all" pass (kernel sockets, holders we may not
//     read) are remembered as ownerless while they stay wanted, so they do not trigger another
//     pass on every refresh. Sockets that open and close between the read of /proc/net and the
//     scan are new unknowns each time on a busy server, hence "all" passes are also spaced by
//     `fullPassMinGapScans`.
//
// `scan(null)` means "scan everything": every fd directory is listed and every link read again.

import { performance } from 'node:perf_hooks';
import type { OwnerScanStats, SocketOwner } from '../model/types.js';
import { InodeSet, WantedInodes } from './inode-index.js';
import type { ProcFs } from './proc-fs.js';

export interface OwnerScannerOptions {
  /** Monotonic clock in ms for durationMs (default performance.now). */
  readonly now?: () => number;
  /** Every cached link is re-read at least once every this many scans; 0 disables. Default 20. */
  readonly reverifyEveryScans?: number;
  /**
   * Minimum number of scans between two "all" passes triggered by unknown inodes. Default 5: on
   * a busy server sockets that open and close between reading /proc/net and this scan are
   * unknown on almost every refresh, and an "all" pass lists every fd directory.
   */
  readonly fullPassMinGapScans?: number;
  /** Trust st_size of /proc/<pid>/fd as the fd count (Linux >= 6.2). Default: detect on the first scan. */
  readonly fdCountFromStat?: boolean;
  /** Only scan the pids this accepts (e.g. those in one network namespace); default: every pid. */
  readonly pidFilter?: (pid: number) => boolean;
}

/** Which passes one scan needed, the widest first: see the header comment. */
export type OwnerScanPass = 'full' | 'all' | 'changed' | 'incremental';

/**
 * Steps that read links: listing (new fds, or every fd in a full scan), vanished (step 2),
 * reverify (step 3), changed and all (step 4).
 */
export type OwnerScanStep = 'listing' | 'vanished' | 'reverify' | 'changed' | 'all';

/** Extra figures for benchmarks and tests (not part of the snapshot). */
export interface OwnerScanDetail {
  readonly pass: OwnerScanPass;
  /** Numeric entries of /proc seen this scan. */
  readonly processes: number;
  /** /proc/<pid>/fd directories listed this scan. */
  readonly dirsListed: number;
  /** stats.linksRead split by the step that read them (see the header comment). */
  readonly linksByStep: Readonly<Record<OwnerScanStep, number>>;
  /** fd links held in the cache after this scan. */
  readonly cachedLinks: number;
  /** Wanted inodes without a known holder after this scan. */
  readonly unknownInodes: number;
  /** Whether st_size of /proc/<pid>/fd is used as the fd count. */
  readonly fdCountFromStat: boolean;
}

export interface OwnerScanResult {
  readonly stats: OwnerScanStats;
  readonly detail: OwnerScanDetail;
  /**
   * Primary holder of a socket inode: lowest pid, then lowest fd. Answers from the scanner's
   * cache, so call it before the next scan() (a later scan updates what it sees).
   */
  lookup(inode: number): SocketOwner | null;
  /** How many other (pid, fd) pairs hold the same socket inode. */
  sharedBy(inode: number): number;
  /**
   * lookup + sharedBy for many inodes without an object per socket: rows of 4 (inode, pid, fd,
   * sharedBy) for the inodes with a holder, and the process fields of the pids in them (the
   * owner worker's reply). Same answers as lookup/sharedBy; same lifetime.
   */
  packOwners(inodes: ArrayLike<number> & Iterable<number>): PackedOwners;
  /**
   * packOwners of every socket inode that has a holder (a whole owner table). With `first`: the
   * held inodes of `first` come first, in its order (a snapshot's: the order a join asks in).
   */
  packAllOwners(first?: ArrayLike<number>): PackedOwners;
  /**
   * After trackChanges(): rows for the inodes of `wanted` whose answer may differ from the
   * table packed when tracking started (pid 0: no holder now). Without tracking: a row for every
   * inode of `wanted` (a complete answer). Tracking goes on from here.
   */
  packChangedOwners(): PackedOwners;
}

/** See OwnerScanResult.packOwners. */
export interface PackedOwners {
  readonly rows: Float64Array;
  readonly processes: [number, { command: string; commandLine: string; uid: number }][];
}

/** Process fields shown with an owner, read once per process (and again on re-verification). */
interface ProcessInfo {
  readonly command: string;
  readonly commandLine: string;
  readonly uid: number;
}

interface PidEntry {
  readonly pid: number;
  /** "<pid>/fd/": built once, so a link's path is one concatenation. */
  readonly fdPrefix: string;
  /** fd number → socket inode, 0 when the fd is not a socket. */
  readonly fds: FdMap;
  socketFds: number;
  /** st_size of /proc/<pid>/fd taken just before the last listing; -1 unknown. */
  fdCount: number;
  /** st_size seen this scan (before any listing); -1 unknown. */
  statSize: number;
  /** st_ino of /proc/<pid>/fd, -1 unknown. */
  dirIno: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot), null until read. */
  startTime: string | null;
  info: ProcessInfo | null;
  /** The re-verification asked for info to be read again (at the end of the scan). */
  infoStale: boolean;
  unreadable: boolean;
  seenScan: number;
  listedScan: number;
  /** Scan in which the fd set was seen to change. */
  changedScan: number;
  touchedScan: number;
}

/** Per-scan work counters. */
interface ScanWork {
  linksRead: number;
  dirsListed: number;
  touched: number;
  step: OwnerScanStep;
  readonly linksByStep: Record<OwnerScanStep, number>;
  /**
   * Packed (pid, fd) keys read this scan, so no pass reads a link twice; null in a full scan,
   * where each link is read once by construction.
   */
  readonly linked: Set<number> | null;
}

/** (pid, fd) packed in one number, ordered by pid then fd: pid < 2^22 (PID_MAX_LIMIT), fd < 2^31, so keys stay below 2^53. */
const FD_SPAN = 2 ** 31;
/** Queue item meaning "refresh comm/cmdline/uid of this pid". */
const INFO_MARK = FD_SPAN - 1;
const DEFAULT_REVERIFY_EVERY_SCANS = 20;
/** Closed fd numbers probeFds may meet before it gives up and lists the directory. */
const PROBE_SLACK = 8;
const DEFAULT_FULL_PASS_MIN_GAP_SCANS = 5;
/**
 * Listings that matched st_size before a first scan trusts it as the fd count (see countTrusted).
 * A recorded tree cannot pass by chance: a tmpfs directory's size is 20 bytes an entry, ext4's
 * 4096; an empty listing (a kernel thread) is no evidence and a mismatch vetoes.
 */
const EARLY_DECISION_MATCHES = 3;

/**
 * The row (inode, pid, fd, sharedBy) of a held inode at rows[n..n+3]: its holder is the lowest
 * pid*FD_SPAN+fd key, sharedBy the other holders. Returns that pid.
 */
function writeHeldRow(rows: Float64Array, n: number, inode: number, held: number | readonly number[]): number {
  const key = typeof held === 'number' ? held : Math.min(...held);
  const pid = Math.floor(key / FD_SPAN);
  rows[n] = inode;
  rows[n + 1] = pid;
  rows[n + 2] = key - pid * FD_SPAN;
  rows[n + 3] = typeof held === 'number' ? 0 : held.length - 1;
  return pid;
}

/**
 * Auto detection of st_size as the fd count tolerates a few mismatches (fds opened between stat
 * and readdir; our own readdir's directory fd): at most 1, or 1 per 20 matches.
 */
const MISMATCH_PER_MATCH = 1 / 20;

const NO_INFO: ProcessInfo = { command: '', commandLine: '', uid: -1 };

export function createOwnerScanner(procFs: ProcFs, options: OwnerScannerOptions = {}): OwnerScanner {
  return new OwnerScanner(procFs, options);
}

export class OwnerScanner {
  private readonly procFs: ProcFs;
  private readonly now: () => number;
  private readonly reverifyEveryScans: number;
  private readonly fullPassMinGapScans: number;
  private fdCountFromStat: boolean | null;
  private readonly pidFilter: ((pid: number) => boolean) | null;
  private countMatches = 0;
  private countMismatches = 0;
  /** /proc/sys/kernel/osrelease names Linux >= 6.2 (read once, when first asked). */
  private kernelCounts: boolean | null = null;

  private scanNo = 0;
  private lastAllPassScan = -Infinity;
  private readonly pids = new Map<number, PidEntry>();
  /** Socket inode → packed (pid, fd) key, or several keys when shared. */
  private readonly holders = new Map<number, number | number[]>();
  /**
   * The wanted inodes of the last scan: each scan learns from it which were added and removed.
   * It also marks the wanted inodes without a holder: unknown (since which scan) or ownerless
   * (an "all" pass could not attribute them); a mark goes with the inode when it is no longer
   * wanted, or when it gains a holder.
   */
  private readonly wanted = new WantedInodes();
  /** Inodes that lost their last holder since the last unknown check (candidates for unknown). */
  private lostHolders: number[] = [];
  private verifyQueue: number[] = [];
  private verifyPos = 0;
  private verifyBudget = 0;
  /** First scan allowed to start a re-verification round (set by a full scan). */
  private verifyFromScan = 0;
  /** During a steady scan's steps 1–2: pids whose fd set changed, reconciled after step 2 (null otherwise). */
  private recount: Set<PidEntry> | null = null;
  /** fds that the last listFds call found new (and read). */
  private lastAdded: number[] = [];
  /**
   * Socket inodes whose holders or holder's process fields changed since trackChanges() (null:
   * not tracking). `--once` packs the whole table after its first scan and then asks only for
   * what changed (packChangedOwners).
   */
  private changed: Set<number> | null = null;

  constructor(procFs: ProcFs, options: OwnerScannerOptions = {}) {
    this.procFs = procFs;
    this.now = options.now ?? (() => performance.now());
    this.reverifyEveryScans = Math.max(0, Math.floor(options.reverifyEveryScans ?? DEFAULT_REVERIFY_EVERY_SCANS));
    this.fullPassMinGapScans = Math.max(1, Math.floor(options.fullPassMinGapScans ?? DEFAULT_FULL_PASS_MIN_GAP_SCANS));
    this.fdCountFromStat = options.fdCountFromStat ?? null;
    this.pidFilter = options.pidFilter ?? null;
  }

  /**
   * Bring the inode → owner map up to date. `wanted`: the non-zero socket inodes of the current
   * snapshot, or null to re-read everything. Never throws for /proc races or permissions.
   */
  scan(wantedInodes: ReadonlySet<number> | Float64Array | null): OwnerScanResult {
    const t0 = this.now();
    this.scanNo += 1;
    const scanNo = this.scanNo;
    const full = wantedInodes === null || scanNo === 1;
    // The wanted set is diffed against the last scan's: only what changed is looked at below.
    const wanted = wantedInodes === null ? null : this.wanted;
    let added: number[] = [];
    let removed: number[] = [];
    if (wantedInodes === null) this.wanted.clear();
    // A steady scan marks the added inodes without a holder unknown as it diffs (step 4; those
    // whose holder this scan finds lose the mark in addHolder).
    else ({ added, removed } = this.wanted.update(inodeListOf(wantedInodes), full ? undefined : { scan: scanNo, held: this.isHeld }));
    const work: ScanWork = {
      linksRead: 0,
      dirsListed: 0,
      touched: 0,
      step: 'listing',
      linksByStep: { listing: 0, vanished: 0, reverify: 0, changed: 0, all: 0 },
      linked: full ? null : new Set(),
    };
    let pass: OwnerScanPass = full ? 'full' : 'incremental';
    if (wanted === null) {
      // scan(null) (a prime: --once and the dashboard start one in the owner worker while the
      // tables are read) reads every link: it is an "all" pass (step 4 waits fullPassMinGapScans
      // after it) and a whole re-verification round (step 3 starts its next round N scans
      // later, so no link goes unread for more than 2N scans). Without this, the scan for the
      // wanted inodes right after it listed every fd directory again for the few inodes nobody
      // holds (kernel sockets) and re-read 1/N of the links just read: 60–75% of the prime's CPU.
      // A first scan *with* a wanted set keeps the wider passes at once: nothing was read
      // between the snapshot's tables and it.
      this.lastAllPassScan = scanNo;
      this.verifyQueue = [];
      this.verifyPos = 0;
      this.verifyFromScan = scanNo + this.reverifyEveryScans;
    }

    // 1. Every numeric entry of /proc: identity, change detection, new fds (a steady scan
    // leaves the pids whose fd count changed for reconcile(), after step 2).
    this.recount = wanted !== null && !full ? new Set() : null;
    const names = this.procFs.readDir('') ?? [];
    let processes = 0;
    for (const name of names) {
      const pid = parseDecimal(name);
      if (pid < 0 || (this.pidFilter !== null && !this.pidFilter(pid))) continue;
      processes += 1;
      this.visitPid(pid, full, work);
    }
    for (const entry of [...this.pids.values()]) {
      if (entry.seenScan !== scanNo) this.dropPid(entry);
    }
    if (scanNo === 1 || this.fdCountFromStat === null) this.decideFdCount();

    let unknownLeft = -1;
    if (wanted !== null && !full) {
      work.step = 'vanished';
      // 2. Links whose socket left the wanted set since last scan (closed: fd likely reused).
      for (const inode of removed) {
        const held = this.holders.get(inode);
        if (held === undefined) continue;
        for (const key of typeof held === 'number' ? [held] : [...held]) this.readKey(key, work);
      }
      work.step = 'listing';
      this.reconcile(work);
      // 3. Rolling re-verification.
      work.step = 'reverify';
      this.reverify(work);
      // 4. Unknown wanted inodes: "changed" then "all" passes over suspect links.
      // Both passes only for an inode that was already unknown after the last scan: on a busy
      // host most unknown inodes are sockets opened and closed between the table read and this
      // scan (gone by the next refresh), and the passes re-read the suspect links of every
      // process whose fd set changed (at 100k, load generators of 12,500 fds each), the "all"
      // pass every fd directory (~0.3 s of CPU). The price: a socket held where no listing or
      // vanished link looked (an fd reused behind an unchanged count) is found one refresh
      // later, so the "changed" pass looks at processes that changed in this scan or the last.
      // The marks live in the wanted set's slots (no Set of the unknown inodes per scan): the
      // work here is proportional to what changed — the inodes added (marked by update above)
      // and those that lost their last holder — not to how many stay unknown or ownerless (1M
      // ownerless sockets of a synthetic tree cost 1.2–2.2 s a scan as Sets).
      for (const inode of this.lostHolders) if (!this.holders.has(inode)) wanted.markUnknown(inode, scanNo);
      this.lostHolders = [];
      const persisting = (): boolean => wanted.unknownBefore(scanNo) > 0;
      if (persisting()) {
        pass = 'changed';
        work.step = 'changed';
        for (const entry of [...this.pids.values()]) {
          if (entry.changedScan >= scanNo - 1 && !entry.unreadable) this.readSuspects(entry, wanted, work);
        }
      }
      if (persisting() && scanNo - this.lastAllPassScan >= this.fullPassMinGapScans) {
        pass = 'all';
        work.step = 'all';
        this.lastAllPassScan = scanNo;
        for (const entry of [...this.pids.values()]) {
          if (!entry.unreadable) this.readSuspects(entry, wanted, work);
        }
        unknownLeft = wanted.unknownCount; // given up on from here (ownerless)
        wanted.unknownToOwnerless();
      }
    } else if (wanted !== null) {
      // A first scan read every link: what has no holder now has none to find.
      for (const inode of added) if (!this.holders.has(inode)) wanted.markOwnerless(inode);
    }
    if (wanted === null || full) this.lostHolders = [];
    let unreadable = 0;
    let cachedLinks = 0;
    for (const entry of this.pids.values()) {
      if (entry.unreadable) unreadable += 1;
      cachedLinks += entry.fds.size;
      if (entry.socketFds > 0 && (entry.info === null || entry.infoStale)) this.loadInfo(entry);
    }

    const stats: OwnerScanStats = {
      enabled: true,
      unreadableProcesses: unreadable,
      scannedProcesses: work.touched,
      linksRead: work.linksRead,
      durationMs: this.now() - t0,
    };
    const detail: OwnerScanDetail = {
      pass,
      processes,
      dirsListed: work.dirsListed,
      linksByStep: work.linksByStep,
      cachedLinks,
      unknownInodes: unknownLeft >= 0 ? unknownLeft : wanted === null || full ? 0 : wanted.unknownCount,
      fdCountFromStat: this.fdCountFromStat === true,
    };
    return {
      stats,
      detail,
      lookup: (inode) => this.lookup(inode),
      sharedBy: (inode) => this.sharedBy(inode),
      packOwners: (inodes) => this.packOwners(inodes, inodes.length),
      packAllOwners: (first) => this.packAllOwners(first),
      packChangedOwners: () => this.packChangedOwners(),
    };
  }

  /** packOwners of every held inode, in one walk of the holders (no second lookup per inode). */
  private packAllOwners(first?: ArrayLike<number>): PackedOwners {
    const rows = new Float64Array(this.holders.size * 4);
    const processes: PackedOwners['processes'] = [];
    let lastPid = -1;
    const listed = new Set<number>();
    let n = 0;
    const placed = first === undefined ? null : new Set<number>();
    const list = (pid: number): void => {
      if (pid !== lastPid && !listed.has(pid)) {
        listed.add(pid);
        const info = this.pids.get(pid)?.info ?? NO_INFO;
        processes.push([pid, { command: info.command, commandLine: info.commandLine, uid: info.uid }]);
      }
      lastPid = pid;
    };
    if (first !== undefined && placed !== null) {
      for (let i = 0; i < first.length; i++) {
        const inode = first[i]!;
        const held = this.holders.get(inode);
        if (held === undefined || placed.has(inode)) continue;
        placed.add(inode);
        list(writeHeldRow(rows, n, inode, held));
        n += 4;
      }
    }
    this.holders.forEach((held, inode) => {
      if (placed !== null && placed.has(inode)) return;
      const pid = writeHeldRow(rows, n, inode, held);
      n += 4;
      // Holders come in scan order (by process): most rows repeat the previous row's pid.
      list(pid);
    });
    return { rows, processes };
  }

  /** Start recording which socket inodes change (see `changed`); forgets what was recorded. */
  trackChanges(): void {
    this.changed = new Set();
  }

  private packChangedOwners(): PackedOwners {
    const changed = this.changed;
    this.changed = new Set();
    const wanted = this.wanted;
    if (changed === null) {
      const inodes: number[] = [];
      for (const inode of this.holders.keys()) if (wanted.has(inode)) inodes.push(inode);
      for (const inode of wanted.marked()) inodes.push(inode);
      return this.packOwners(inodes, inodes.length, true);
    }
    const inodes: number[] = [];
    for (const inode of changed) if (wanted.has(inode)) inodes.push(inode);
    return this.packOwners(inodes, inodes.length, true);
  }

  /** Whether trackChanges() was called (packChanges answers relative to a table sent before). */
  get tracking(): boolean {
    return this.changed !== null;
  }

  /**
   * After trackChanges(): a row for every socket inode whose answer may have changed since the
   * last packChanges (or since tracking started), wanted or not (pid 0: no holder now), with the
   * processes in them. What a live screen's owner table is brought up to date with.
   */
  packChanges(): PackedOwners {
    const changed = this.changed ?? new Set<number>();
    this.changed = new Set();
    return this.packOwners(changed, changed.size, true);
  }

  /**
   * Rows of 4 (inode, pid, fd, sharedBy) for `inodes` (`count` of them) that have a holder;
   * with `withEmpty`, a row (inode, 0, 0, 0) for each one that has none.
   */
  private packOwners(inodes: Iterable<number>, count: number, withEmpty = false): PackedOwners {
    const rows = new Float64Array(count * 4);
    const processes: PackedOwners['processes'] = [];
    const listed = new Set<number>();
    let n = 0;
    for (const inode of inodes) {
      if (n >= rows.length) break;
      const held = this.holders.get(inode);
      if (held === undefined) {
        if (withEmpty) {
          rows[n] = inode;
          rows[n + 1] = 0;
          rows[n + 2] = 0;
          rows[n + 3] = 0;
          n += 4;
        }
        continue;
      }
      const pid = writeHeldRow(rows, n, inode, held);
      n += 4;
      if (!listed.has(pid)) {
        listed.add(pid);
        const info = this.pids.get(pid)?.info ?? NO_INFO;
        processes.push([pid, { command: info.command, commandLine: info.commandLine, uid: info.uid }]);
      }
    }
    return { rows: n === rows.length ? rows : rows.slice(0, n), processes };
  }

  private lookup(inode: number): SocketOwner | null {
    const held = this.holders.get(inode);
    if (held === undefined) return null;
    const key = typeof held === 'number' ? held : Math.min(...held);
    const pid = Math.floor(key / FD_SPAN);
    const info = this.pids.get(pid)?.info ?? NO_INFO;
    return { pid, command: info.command, commandLine: info.commandLine, uid: info.uid, fd: key - pid * FD_SPAN };
  }

  private sharedBy(inode: number): number {
    const held = this.holders.get(inode);
    return held === undefined || typeof held === 'number' ? 0 : held.length - 1;
  }

  // ---- step 1 -------------------------------------------------------------------------------

  private visitPid(pid: number, full: boolean, work: ScanWork): void {
    const fdDir = `${pid}/fd`;
    let size = -1;
    let ino = -1;
    if (this.procFs.stat !== undefined) {
      const st = this.procFs.stat(fdDir);
      if (st !== null) {
        size = st.size;
        ino = st.ino;
      }
    } else {
      size = this.procFs.statSize(fdDir) ?? -1;
    }
    if (size < 0 && this.procFs.lastError() === 'ENOENT') return; // exited: dropped by the sweep

    let entry = this.pids.get(pid);
    if (entry !== undefined && !this.sameProcess(entry, ino, size)) {
      this.dropPid(entry);
      entry = undefined;
    }
    const isNew = entry === undefined;
    if (entry === undefined) {
      entry = newPidEntry(pid);
      this.pids.set(pid, entry);
    }
    entry.seenScan = this.scanNo;
    entry.statSize = size;
    if (ino >= 0) entry.dirIno = ino;

    if (isNew || full || entry.unreadable) {
      // Every fd of a new pid is new: with a trusted count its lowest fd numbers are read until
      // that many are found, without listing the directory (see probeNew).
      if (isNew && size >= 0 && this.countTrusted() && this.probeNew(entry, size, work)) return;
      // Otherwise listing reads them all; a known pid in a full scan has the rest of its links
      // read again.
      const listed = this.listFds(entry, work);
      if (listed < 0) return;
      if (isNew && size >= 0 && listed > 0) this.sampleFdCount(fdDir, size, listed);
      if (!isNew) this.readAll(entry, work, new Set(this.lastAdded));
      return;
    }
    if (this.fdCountFromStat === true && size >= 0 && size === entry.fdCount) return; // unchanged
    if (this.recount !== null && this.fdCountFromStat === true && size >= 0) {
      this.recount.add(entry); // after the vanished links: see reconcile()
      return;
    }
    this.listFds(entry, work);
  }

  /**
   * A steady scan's pids whose fd count changed (or whose cached fd was found closed), once the
   * vanished links were read (step 2: the fds of closed sockets, re-read or dropped). Listing a
   * load generator's fd directory costs ~20 ms (12,500 entries), and at 100k most changes are a
   * connection closed and one opened: the count then says what is left to find. With as many
   * cached fds as open ones, nothing is (the blind spot of any count: a close and an open the
   * vanished links did not see, left to the re-verification and the unknown-inode passes). With
   * `d` more open than cached, the kernel gave the new fds the lowest free numbers: those not
   * cached are read in order until `d` are found (a few misses allowed). Anything else — fewer
   * open than cached, the new fds not where expected, an error — lists the directory as before.
   */
  private reconcile(work: ScanWork): void {
    const entries = this.recount;
    this.recount = null;
    if (entries === null) return;
    for (const entry of entries) {
      if (entry.seenScan !== this.scanNo || entry.listedScan === this.scanNo) continue;
      const missing = entry.statSize - entry.fds.size;
      if (missing < 0 || (missing > 0 && !this.probeFds(entry, missing, work))) {
        this.listFds(entry, work);
        continue;
      }
      entry.fdCount = entry.statSize;
    }
  }

  /** Read the lowest fd numbers not cached until `missing` open ones are found; false when they are not there. */
  private probeFds(entry: PidEntry, missing: number, work: ScanWork, maxMisses = missing + PROBE_SLACK): boolean {
    let found = 0;
    let misses = 0;
    for (let fd = 0; found < missing; fd++) {
      if (entry.fds.has(fd)) continue;
      if (misses > maxMisses || fd > FD_SPAN - 2) return false;
      this.readFd(entry, fd, work);
      if (entry.fds.has(fd)) {
        found += 1;
        entry.changedScan = this.scanNo;
      } else {
        if (this.procFs.lastError() !== 'ENOENT') return false; // EACCES, the process gone: list (or drop) it
        misses += 1;
      }
    }
    return true;
  }

  /**
   * Whether st_size of /proc/<pid>/fd can be taken as the fd count now. A first scan decides as
   * soon as EARLY_DECISION_MATCHES listings matched it on a kernel that says it counts (pids come
   * in order: the first few small processes decide before the large ones are read); otherwise
   * the end of the first scan decides (decideFdCount).
   */
  private countTrusted(): boolean {
    if (this.fdCountFromStat !== null) return this.fdCountFromStat;
    if (this.countMatches < EARLY_DECISION_MATCHES || this.countMismatches > 0) return false;
    this.kernelCounts ??= kernelCountsFds(this.procFs.readText('sys/kernel/osrelease') ?? '');
    if (!this.kernelCounts) return false;
    this.fdCountFromStat = true;
    return true;
  }

  /**
   * A new pid's links without listing its fd directory (a cold scan lists ~100k entries at 100k
   * sockets: ~0.1 s of CPU, the names sorted by libuv's scandir): the kernel hands out the
   * lowest free fd, so its `count` open fds are most often 0..count-1 with a few holes. Each
   * hole is a readlink that fails (ENOENT); after PROBE_SLACK + count/32 of them (sparse fds,
   * or a count that is not one) it gives up, and the caller lists the directory, which reads
   * only the fds not read yet. An fd opened after the stat, above the ones found, is missed as
   * if opened after the scan. A count of 0 (a kernel thread) reads nothing.
   */
  private probeNew(entry: PidEntry, count: number, work: ScanWork): boolean {
    if (!this.probeFds(entry, count, work, PROBE_SLACK + (count >> 5))) return false;
    entry.unreadable = false;
    entry.listedScan = this.scanNo;
    entry.fdCount = count;
    return true;
  }

  /**
   * Whether a cached pid is still the same process. A new st_ino of /proc/<pid>/fd (or, without
   * st_ino, a changed fd count of a pid holding sockets) is checked against the start time.
   */
  private sameProcess(entry: PidEntry, ino: number, size: number): boolean {
    let suspicious: boolean;
    if (ino >= 0 && entry.dirIno >= 0) suspicious = ino !== entry.dirIno;
    else suspicious = entry.socketFds > 0 && size !== entry.fdCount;
    if (!suspicious) return true;
    if (entry.startTime === null) return false;
    const startTime = this.readStartTime(entry.pid);
    return startTime === null || startTime === entry.startTime;
  }

  /**
   * One sample for the auto detection: st_size before the listing vs the entries listed. A
   * mismatch counts only if st_size did not move meanwhile (a busy process opening fds is a
   * race, not evidence); before 6.2 st_size stays 0, on a recorded tree it is a byte size.
   */
  private sampleFdCount(fdDir: string, size: number, listed: number): void {
    if (size === listed) {
      this.countMatches += 1;
      return;
    }
    const after = this.procFs.stat?.(fdDir)?.size ?? this.procFs.statSize(fdDir);
    if (after === size) this.countMismatches += 1;
  }

  private decideFdCount(): void {
    if (this.fdCountFromStat !== null) return;
    if (this.countMatches === 0) return; // no evidence yet (or st_size is not a count)
    // A kernel that says it counts (>= 6.2) is believed as soon as counts match more often than
    // not: on a busy host (a load generator opening and closing connections) processes change
    // their fd set between the stat and the listing, and the sampling alone said "not a count"
    // at 100k, which made every scan list every fd directory. A recorded tree (no osrelease, or
    // byte sizes that do not match listings) still decides by the samples.
    const release = this.procFs.readText('sys/kernel/osrelease');
    if (release !== null && kernelCountsFds(release) && this.countMatches > this.countMismatches) {
      this.fdCountFromStat = true;
      return;
    }
    this.fdCountFromStat = this.countMismatches <= Math.max(1, this.countMatches * MISMATCH_PER_MATCH);
  }

  /**
   * List /proc/<pid>/fd: drop fds that are gone, readlink new ones. Returns the number of
   * entries, or -1 when the directory could not be read (the pid is marked unreadable, or left
   * for the sweep when it exited).
   */
  private listFds(entry: PidEntry, work: ScanWork): number {
    const names = this.procFs.readDir(`${entry.pid}/fd`);
    this.touch(entry, work);
    if (names === null) {
      const code = this.procFs.lastError();
      this.clearFds(entry);
      if (code === 'ENOENT' || code === 'ESRCH')
        entry.seenScan = -1; // exited mid-scan
      else entry.unreadable = true; // EACCES/EPERM: another user's process
      return -1;
    }
    entry.unreadable = false;
    entry.listedScan = this.scanNo;
    entry.fdCount = entry.statSize;
    work.dirsListed += 1;
    if (entry.fds.size === 0) {
      // Nothing cached (a new pid, the common case of a cold scan): every fd is new.
      const added: number[] = [];
      for (const name of names) {
        const fd = parseDecimal(name);
        if (fd < 0) continue;
        added.push(fd);
        this.readFd(entry, fd, work, name);
      }
      if (added.length > 0) entry.changedScan = this.scanNo;
      this.lastAdded = added;
      return names.length;
    }
    let known = 0;
    const added: number[] = [];
    const present: number[] = [];
    for (const name of names) {
      const fd = parseDecimal(name);
      if (fd < 0) continue;
      present.push(fd);
      if (entry.fds.has(fd)) known += 1;
      else added.push(fd);
    }
    if (known < entry.fds.size) {
      const keep = new Set(present);
      for (const fd of entry.fds.keys()) if (!keep.has(fd)) this.deleteFd(entry, fd);
      entry.changedScan = this.scanNo;
    }
    if (added.length > 0) entry.changedScan = this.scanNo;
    for (const fd of added) this.readFd(entry, fd, work);
    this.lastAdded = added;
    return names.length;
  }

  /** Re-read the links of a pid not read yet this scan (full scan: those not new in the listing). */
  private readAll(entry: PidEntry, work: ScanWork, fresh: ReadonlySet<number> | null = null): void {
    const base = entry.pid * FD_SPAN;
    for (const fd of entry.fds.keys()) {
      if (fresh !== null ? !fresh.has(fd) : work.linked?.has(base + fd) !== true) this.readFd(entry, fd, work);
    }
  }

  // ---- steps 2–4 ----------------------------------------------------------------------------

  private readKey(key: number, work: ScanWork): boolean {
    if (work.linked?.has(key) === true) return false;
    const pid = Math.floor(key / FD_SPAN);
    const entry = this.pids.get(pid);
    const fd = key - pid * FD_SPAN;
    if (entry === undefined || !entry.fds.has(fd)) return false;
    this.readFd(entry, fd, work);
    return true;
  }

  /** Re-read the next slice of the rolling queue (a new round starts when it runs out). */
  private reverify(work: ScanWork): void {
    if (this.reverifyEveryScans === 0) return;
    if (this.verifyPos >= this.verifyQueue.length) {
      if (this.scanNo < this.verifyFromScan) return;
      const queue: number[] = [];
      for (const entry of this.pids.values()) {
        const base = entry.pid * FD_SPAN;
        if (entry.info !== null) queue.push(base + INFO_MARK);
        for (const fd of entry.fds.keys()) queue.push(base + fd);
      }
      this.verifyQueue = queue;
      this.verifyPos = 0;
      this.verifyBudget = Math.ceil(queue.length / this.reverifyEveryScans);
    }
    const end = Math.min(this.verifyQueue.length, this.verifyPos + this.verifyBudget);
    for (; this.verifyPos < end; this.verifyPos += 1) {
      const key = this.verifyQueue[this.verifyPos] ?? 0;
      const pid = Math.floor(key / FD_SPAN);
      if (key - pid * FD_SPAN === INFO_MARK) {
        const entry = this.pids.get(pid);
        if (entry !== undefined) entry.infoStale = true; // reloaded at the end of the scan
      } else {
        this.readKey(key, work);
      }
    }
  }

  private readonly isHeld = (inode: number): boolean => this.holders.has(inode);

  /**
   * List the pid's fds if not yet done this scan, then re-read every link that could now hold
   * an unknown socket: not a socket, a socket not wanted, or a socket with several holders.
   */
  private readSuspects(entry: PidEntry, wanted: WantedInodes, work: ScanWork): void {
    if (entry.listedScan !== this.scanNo && this.listFds(entry, work) < 0) return;
    const base = entry.pid * FD_SPAN;
    const suspects: number[] = [];
    entry.fds.forEach((inode, fd) => {
      if (work.linked?.has(base + fd) === true) return;
      if (inode === 0 || !wanted.has(inode) || typeof this.holders.get(inode) !== 'number') suspects.push(fd);
    });
    for (const fd of suspects) if (entry.fds.has(fd)) this.readFd(entry, fd, work);
  }

  // ---- cache primitives ---------------------------------------------------------------------

  /** readlink /proc/<pid>/fd/<fd>: a vanished fd (closed since the listing) is dropped. */
  private readFd(entry: PidEntry, fd: number, work: ScanWork, name?: string): void {
    work.linksRead += 1;
    work.linksByStep[work.step] += 1;
    work.linked?.add(entry.pid * FD_SPAN + fd);
    this.touch(entry, work);
    const target = this.procFs.readLink(entry.fdPrefix + (name ?? fd));
    if (target === null) {
      if (!entry.fds.has(fd)) return; // listed, then closed before the readlink
      this.deleteFd(entry, fd);
      entry.changedScan = this.scanNo;
      // A cached fd is gone although the count did not change: another fd took its place.
      if (this.recount !== null) this.recount.add(entry);
      else if (entry.listedScan !== this.scanNo) this.listFds(entry, work);
      return;
    }
    this.setFd(entry, fd, parseSocketTarget(target));
  }

  private touch(entry: PidEntry, work: ScanWork): void {
    if (entry.touchedScan === this.scanNo) return;
    entry.touchedScan = this.scanNo;
    work.touched += 1;
  }

  private setFd(entry: PidEntry, fd: number, inode: number): void {
    const old = entry.fds.get(fd);
    if (old === inode) return;
    const key = entry.pid * FD_SPAN + fd;
    if (old !== undefined && old !== 0) {
      this.removeHolder(old, key);
      entry.socketFds -= 1;
    }
    entry.fds.set(fd, inode);
    if (inode !== 0) {
      this.addHolder(inode, key);
      entry.socketFds += 1;
    }
  }

  private deleteFd(entry: PidEntry, fd: number): void {
    const old = entry.fds.get(fd);
    if (old === undefined) return;
    if (old !== 0) {
      this.removeHolder(old, entry.pid * FD_SPAN + fd);
      entry.socketFds -= 1;
    }
    entry.fds.delete(fd);
  }

  private clearFds(entry: PidEntry): void {
    for (const fd of entry.fds.keys()) this.deleteFd(entry, fd);
  }

  private dropPid(entry: PidEntry): void {
    this.clearFds(entry);
    this.pids.delete(entry.pid);
  }

  private addHolder(inode: number, key: number): void {
    this.changed?.add(inode);
    const held = this.holders.get(inode);
    if (held === undefined) {
      this.holders.set(inode, key);
      this.wanted.clearMark(inode); // no longer unknown, nor ownerless
    } else if (typeof held === 'number') this.holders.set(inode, held === key ? held : [held, key]);
    else if (!held.includes(key)) held.push(key);
  }

  private removeHolder(inode: number, key: number): void {
    this.changed?.add(inode);
    const held = this.holders.get(inode);
    if (held === undefined) return;
    if (typeof held === 'number') {
      if (held === key) {
        this.holders.delete(inode);
        this.lostHolders.push(inode);
      }
      return;
    }
    const rest = held.filter((k) => k !== key);
    if (rest.length === 0) {
      this.holders.delete(inode);
      this.lostHolders.push(inode);
      return;
    }
    if (rest.length === 1) this.holders.set(inode, rest[0] ?? key);
    else this.holders.set(inode, rest);
  }

  // ---- process info -------------------------------------------------------------------------

  /** Field 22 of /proc/<pid>/stat: start time in clock ticks after boot (text, as given). */
  private readStartTime(pid: number): string | null {
    const text = this.procFs.readText(`${pid}/stat`);
    return text === null ? null : parseStatFields(text).startTime;
  }

  /** comm, cmdline, real uid and start time of a pid that holds at least one socket. */
  private loadInfo(entry: PidEntry): void {
    const pid = entry.pid;
    const statText = this.procFs.readText(`${pid}/stat`);
    const stat = statText === null ? null : parseStatFields(statText);
    if (stat !== null && stat.startTime !== null) entry.startTime = stat.startTime;
    const comm = this.procFs.readText(`${pid}/comm`);
    const cmdline = this.procFs.readText(`${pid}/cmdline`);
    const status = this.procFs.readText(`${pid}/status`);
    const uid = (status === null ? null : parseStatusUid(status)) ?? this.procFs.statUid(`${pid}`) ?? -1;
    const old = entry.info;
    const info: ProcessInfo = {
      command: comm !== null ? stripNewline(comm) : (stat?.comm ?? ''),
      commandLine: cmdline === null ? '' : parseCmdline(cmdline),
      uid,
    };
    entry.infoStale = false;
    if (old !== null && old.command === info.command && old.commandLine === info.commandLine && old.uid === info.uid) return;
    entry.info = info;
    // Its sockets' answers carry these fields: changed for packChangedOwners (a re-read after
    // exec). A re-read that finds the same fields changes nothing: no row to send again.
    if (this.changed !== null) for (const inode of entry.fds.values()) if (inode !== 0) this.changed.add(inode);
  }
}

/** fds beyond this number (a dup2 to a high number, a raised limit) go to FdMap's Map. */
const DENSE_FDS = 1 << 20;

/**
 * One process's fd number → socket inode (0: not a socket), as the subset of a Map the scanner
 * uses. fds are small and mostly contiguous (the kernel hands out the lowest free one), so the
 * inodes sit in an array indexed by fd (-1: no such fd), grown by doubling: at 100k sockets a
 * Map per process cost ~50 ms of a cold scan's CPU to fill. Keys and values come as arrays, in
 * fd order (a copy: the map may change while the caller walks them).
 */
class FdMap {
  private slots = new Float64Array(0);
  private far: Map<number, number> | null = null;
  size = 0;

  has(fd: number): boolean {
    if (fd < this.slots.length) return this.slots[fd]! >= 0;
    return fd >= DENSE_FDS && this.far !== null && this.far.has(fd);
  }

  get(fd: number): number | undefined {
    if (fd < this.slots.length) {
      const inode = this.slots[fd]!;
      return inode >= 0 ? inode : undefined;
    }
    return fd >= DENSE_FDS && this.far !== null ? this.far.get(fd) : undefined;
  }

  set(fd: number, inode: number): void {
    if (fd >= DENSE_FDS) {
      this.far ??= new Map();
      if (!this.far.has(fd)) this.size += 1;
      this.far.set(fd, inode);
      return;
    }
    if (fd >= this.slots.length) {
      let length = Math.max(16, this.slots.length);
      while (length <= fd) length *= 2;
      const grown = new Float64Array(length).fill(-1);
      grown.set(this.slots);
      this.slots = grown;
    }
    if (this.slots[fd]! < 0) this.size += 1;
    this.slots[fd] = inode;
  }

  delete(fd: number): boolean {
    if (fd < this.slots.length) {
      if (this.slots[fd]! < 0) return false;
      this.slots[fd] = -1;
      this.size -= 1;
      return true;
    }
    if (fd < DENSE_FDS || this.far === null || !this.far.delete(fd)) return false;
    this.size -= 1;
    return true;
  }

  keys(): number[] {
    const out: number[] = [];
    this.forEach((_inode, fd) => out.push(fd));
    return out;
  }

  values(): number[] {
    const out: number[] = [];
    this.forEach((inode) => out.push(inode));
    return out;
  }

  forEach(callback: (inode: number, fd: number) => void): void {
    const { slots } = this;
    for (let fd = 0; fd < slots.length; fd++) if (slots[fd]! >= 0) callback(slots[fd]!, fd);
    this.far?.forEach(callback);
  }
}

function newPidEntry(pid: number): PidEntry {
  return {
    pid,
    fdPrefix: `${pid}/fd/`,
    fds: new FdMap(),
    socketFds: 0,
    fdCount: -1,
    statSize: -1,
    dirIno: -1,
    startTime: null,
    info: null,
    infoStale: false,
    unreadable: false,
    seenScan: 0,
    listedScan: 0,
    changedScan: 0,
    touchedScan: 0,
  };
}

// ---- parsers (pure) ---------------------------------------------------------------------------

/** The inodes of a scan's wanted set as an array (an InodeSet's own list, not copied). */
function inodeListOf(wanted: ReadonlySet<number> | Float64Array): ArrayLike<number> {
  if (wanted instanceof Float64Array) return wanted;
  if (wanted instanceof InodeSet) return wanted.inodes;
  return Float64Array.from(wanted);
}

/** Whether /proc/sys/kernel/osrelease ("6.18.0-1-amd64") names Linux >= 6.2, where st_size of /proc/<pid>/fd is its fd count. */
export function kernelCountsFds(release: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release.trim());
  if (m === null) return false;
  const major = Number(m[1]);
  return major > 6 || (major === 6 && Number(m[2]) >= 2);
}

/** Non-negative decimal integer of a whole string ("123"), or -1 (e.g. "self", "net"). */
export function parseDecimal(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15) return -1;
  let value = 0;
  for (let i = 0; i < n; i += 1) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

/** Inode of a /proc/<pid>/fd link target "socket:[12345]", or 0 for anything else. */
export function parseSocketTarget(target: string): number {
  const n = target.length;
  // One per fd of every process: the digits are read in place (no slice). At most 15 digits, as parseDecimal.
  if (n < 10 || n > 24 || !target.startsWith('socket:[') || target.charCodeAt(n - 1) !== 93 /* ] */) return 0;
  let inode = 0;
  for (let i = 8; i < n - 1; i += 1) {
    const c = target.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return 0;
    inode = inode * 10 + c;
  }
  return inode;
}

/**
 * /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and ')', so fields are
 * counted after the last ')'. startTime is field 22 (clock ticks after boot).
 */
export function parseStatFields(text: string): { comm: string | null; startTime: string | null } {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return { comm: null, startTime: null };
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19].
  const startTime = rest[19];
  return {
    comm: text.slice(open + 1, close),
    startTime: startTime !== undefined && parseDecimal(startTime) >= 0 ? startTime : null,
  };
}

/** Real uid: first number of the "Uid:" line of /proc/<pid>/status ("Uid:\t1000\t1000\t…"), or null. */
export function parseStatusUid(text: string): number | null {
  const start = text.startsWith('Uid:') ? 0 : text.indexOf('\nUid:') + 1;
  if (start === 0 && !text.startsWith('Uid:')) return null;
  const end = text.indexOf('\n', start);
  const fields = text
    .slice(start + 4, end < 0 ? text.length : end)
    .trim()
    .split(/\s+/);
  const uid = parseDecimal(fields[0] ?? '');
  return uid < 0 ? null : uid;
}

/** /proc/<pid>/cmdline: NUL-separated argv → one line; empty for kernel threads. */
export function parseCmdline(text: string): string {
  return text.replaceAll('\0', ' ').trim();
}

function stripNewline(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}
