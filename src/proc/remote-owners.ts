// Owner mapping of a remote host (--ssh): an AsyncOwnerSource that asks the remote shell, once
// per refresh, for every socket fd of every process in one listing, then reads comm, cmdline and
// the Uid line of status only for processes it has not seen before (cached per pid).
//
// The listing, with GNU find (one process for the whole scan):
//   find /proc/[0-9]*/fd -maxdepth 1 \( -type l -lname 'socket:*' -printf 'S %p %l\n' \)
//     -o \( -type d -readable -printf 'D %p %i\n' \) -o \( -type d -printf 'U %p\n' \)
// gives "S /proc/<pid>/fd/<fd> socket:[<inode>]" per socket fd, "D /proc/<pid>/fd <dir inode>"
// per readable process and "U /proc/<pid>/fd" per process whose fds we may not read (another
// user's, when not root): those are counted as unreadable. The inode of /proc/<pid>/fd changes
// with the process, so a reused pid is noticed and its comm/cmdline/uid read again.
// Without GNU find (busybox: no -printf), a sh loop runs `ls -l` per process instead:
//   "D /proc/<pid>/fd", then ls -lq lines "lrwx------ 1 root root 64 … 5 -> socket:[123]", or "U …".
// There the pid-reuse check has no inode to compare and relies on the pid leaving the listing.

import { performance } from 'node:perf_hooks';
import type { OwnerScanStats, SocketOwner } from '../model/types.js';
import type { AsyncOwnerSource, OwnerLookup } from './collect-snapshot.js';
import { parseCmdline, parseStatusUid } from './read-owners.js';
import type { RemoteShell } from './ssh/protocol.js';

/** One socket fd of a remote process. */
export interface SocketFd {
  readonly pid: number;
  readonly fd: number;
  readonly inode: number;
}

/** What one listing says. */
export interface SocketFdListing {
  readonly sockets: SocketFd[];
  /** Readable processes: pid → inode of /proc/<pid>/fd (-1 when the listing has none: ls mode). */
  readonly processes: Map<number, number>;
  /** Processes whose fd directory could not be read. */
  readonly unreadable: number;
}

/** comm, cmdline and uid of one process. */
export interface RemoteProcessInfo {
  readonly command: string;
  readonly commandLine: string;
  readonly uid: number;
}

export type ListingMode = 'gnu-find' | 'ls';

/** Listing of every socket fd with GNU find (see the header). */
export const GNU_FIND_LISTING =
  "find /proc/[0-9]*/fd -maxdepth 1 \\( -type l -lname 'socket:*' -printf 'S %p %l\\n' \\) " +
  "-o \\( -type d -readable -printf 'D %p %i\\n' \\) -o \\( -type d -printf 'U %p\\n' \\)";

/** The same with POSIX sh and ls -l, one ls per process (busybox, old find). */
export const LS_LISTING =
  'for d in /proc/[0-9]*/fd; do if [ -r "$d" ]; then printf \'D %s\\n\' "$d"; ls -lq "$d"; else printf \'U %s\\n\' "$d"; fi; done';

/** Prints "gnu" when find has -printf and -readable. */
export const FIND_PROBE = "find /proc/self/fd -maxdepth 0 -readable -printf 'gnu\\n'";

const S_RE = /^S \/proc\/(\d+)\/fd\/(\d+) socket:\[(\d+)\]$/;
const D_RE = /^D \/proc\/(\d+)\/fd(?: (\d+))?$/;
const U_RE = /^U \/proc\/(\d+)\/fd$/;
/**
 * An ls -lq line of a socket fd: "l… <fd> -> socket:[<inode>]" with one arrow only: the target
 * of another fd may be a file name holding " -> socket:[1]" (any user can create one); -q turns
 * a newline in it into '?', so it cannot start a line of its own (GNU ls; busybox is believed to
 * do the same).
 */
const LS_RE = /^l\S*\s.*\s(\d+) -> socket:\[(\d+)\]$/;

/**
 * Parse either listing (both may be mixed: lines are tagged). Lines that match nothing (ls's
 * "total 0", links to files, error text) are ignored; a socket line outside a D section in ls
 * mode is ignored too.
 */
export function parseSocketFdListing(text: string): SocketFdListing {
  const sockets: SocketFd[] = [];
  const processes = new Map<number, number>();
  let unreadable = 0;
  let lsPid = -1;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const c = line.charCodeAt(0);
    if (c === 83 /* S */) {
      const m = S_RE.exec(line);
      if (m !== null) sockets.push({ pid: Number(m[1]), fd: Number(m[2]), inode: Number(m[3]) });
      continue;
    }
    if (c === 68 /* D */) {
      const m = D_RE.exec(line);
      if (m !== null) {
        lsPid = Number(m[1]);
        processes.set(lsPid, m[2] === undefined ? -1 : Number(m[2]));
        continue;
      }
    }
    if (c === 85 /* U */) {
      const m = U_RE.exec(line);
      if (m !== null) {
        unreadable += 1;
        lsPid = -1;
        continue;
      }
    }
    if (lsPid >= 0 && line.indexOf(' -> ') === line.lastIndexOf(' -> ')) {
      const m = LS_RE.exec(line);
      if (m !== null) sockets.push({ pid: lsPid, fd: Number(m[1]), inode: Number(m[2]) });
    }
  }
  return { sockets, processes, unreadable };
}

/** The script that prints comm, cmdline and status of each pid, parts separated by `sep`. */
export function processInfoScript(pids: readonly number[], sep: string): string {
  const list = pids.filter((p) => Number.isSafeInteger(p) && p > 0).join(' ');
  return (
    `for p in ${list}; do ` +
    `printf '\\n%s %s\\n' '${sep}' "$p"; cat "/proc/$p/comm"; ` +
    `printf '\\n%s\\n' '${sep}'; cat "/proc/$p/cmdline"; ` +
    `printf '\\n%s\\n' '${sep}'; cat "/proc/$p/status"; done`
  );
}

/**
 * Parse the answer of processInfoScript: per pid "\n<sep> <pid>\n" comm, "\n<sep>\n" cmdline,
 * "\n<sep>\n" status. A process that exited meanwhile has empty parts: its uid is -1.
 */
export function parseProcessInfoReply(text: string, sep: string): Map<number, RemoteProcessInfo> {
  const infos = new Map<number, RemoteProcessInfo>();
  const parts = text.split(`\n${sep}`);
  let pid = -1;
  let fields: string[] = [];
  const flush = (): void => {
    if (pid < 0) return;
    const [comm = '', cmdline = '', status = ''] = fields;
    infos.set(pid, {
      command: comm.endsWith('\n') ? comm.slice(0, -1) : comm,
      commandLine: parseCmdline(cmdline),
      uid: parseStatusUid(status) ?? -1,
    });
  };
  for (const part of parts.slice(1)) {
    const header = /^ (\d+)\n/.exec(part);
    if (header !== null) {
      flush();
      pid = Number(header[1]);
      fields = [part.slice(header[0].length)];
    } else {
      fields.push(part.startsWith('\n') ? part.slice(1) : part);
    }
  }
  flush();
  return infos;
}

/**
 * Join a listing into lookups for the wanted inodes: the primary owner is the lowest pid, then
 * the lowest fd; sharedBy counts the other (pid, fd) holders.
 */
export function buildOwnerLookup(
  listing: SocketFdListing,
  wanted: ReadonlySet<number>,
  infoOf: (pid: number) => RemoteProcessInfo | undefined,
  stats: OwnerScanStats,
): OwnerLookup {
  const primary = new Map<number, SocketFd>();
  const holders = new Map<number, number>();
  for (const s of listing.sockets) {
    if (!wanted.has(s.inode)) continue;
    holders.set(s.inode, (holders.get(s.inode) ?? 0) + 1);
    const p = primary.get(s.inode);
    if (p === undefined || s.pid < p.pid || (s.pid === p.pid && s.fd < p.fd)) primary.set(s.inode, s);
  }
  const owners = new Map<number, SocketOwner>();
  for (const [inode, s] of primary) {
    const info = infoOf(s.pid);
    owners.set(inode, { pid: s.pid, fd: s.fd, command: info?.command ?? '', commandLine: info?.commandLine ?? '', uid: info?.uid ?? -1 });
  }
  return {
    stats,
    lookup: (inode) => owners.get(inode) ?? null,
    sharedBy: (inode) => Math.max(0, (holders.get(inode) ?? 0) - 1),
  };
}

export interface RemoteOwnerOptions {
  /** Monotonic clock in ms for durationMs (default performance.now). */
  readonly now?: () => number;
  /** Skip the probe (tests). */
  readonly mode?: ListingMode;
}

/** One listing request per refresh, plus one info request when new processes hold sockets. */
export function createRemoteOwnerSource(shell: RemoteShell, options: RemoteOwnerOptions = {}): AsyncOwnerSource {
  const now = options.now ?? (() => performance.now());
  let mode: ListingMode | null = options.mode ?? null;
  /** pid → (inode of its fd directory when it was read, info). */
  const cache = new Map<number, { dirIno: number; info: RemoteProcessInfo }>();
  let closed = false;

  /** List the remote fds, and ask for the processes not known yet that hold a `wanted` socket (null: any). */
  const refresh = async (wanted: ReadonlySet<number> | null): Promise<SocketFdListing> => {
    if (mode === null) {
      const probe = await shell.exec(() => FIND_PROBE);
      mode = probe.text.trim() === 'gnu' ? 'gnu-find' : 'ls';
    }
    const script = mode === 'gnu-find' ? GNU_FIND_LISTING : LS_LISTING;
    const listing = parseSocketFdListing((await shell.exec(() => script)).text);

    // Forget processes that are gone or whose fd directory changed identity (pid reused).
    for (const [pid, entry] of cache) {
      const ino = listing.processes.get(pid);
      if (ino === undefined || (ino >= 0 && entry.dirIno >= 0 && ino !== entry.dirIno)) cache.delete(pid);
    }
    const missing = new Set<number>();
    for (const s of listing.sockets) if ((wanted === null || wanted.has(s.inode)) && !cache.has(s.pid)) missing.add(s.pid);
    if (missing.size > 0 && !closed) {
      const pids = [...missing].sort((a, b) => a - b);
      const reply = await shell.exec((sep) => processInfoScript(pids, sep));
      const infos = parseProcessInfoReply(reply.text, reply.sep);
      for (const pid of pids) {
        const info = infos.get(pid) ?? { command: '', commandLine: '', uid: -1 };
        cache.set(pid, { dirIno: listing.processes.get(pid) ?? -1, info });
      }
    }
    return listing;
  };

  return {
    // The first listing (and every socket holder's name and command line) over the session the
    // tables are read over: after the dashboard's first snapshot, so that frame does not wait.
    async prime() {
      try {
        await refresh(null);
      } catch {
        // a failing link fails the next table read with its own message
      }
    },
    primeAfterFirstSnapshot: true,
    async scan(wanted) {
      const t0 = now();
      const listing = await refresh(wanted);
      const stats: OwnerScanStats = {
        enabled: true,
        unreadableProcesses: listing.unreadable,
        scannedProcesses: listing.processes.size + listing.unreadable,
        linksRead: listing.sockets.length,
        durationMs: now() - t0,
      };
      return buildOwnerLookup(listing, wanted, (pid) => cache.get(pid)?.info, stats);
    },
    close() {
      // The ssh session belongs to whoever opened it (main closes it once).
      closed = true;
      cache.clear();
      return Promise.resolve();
    },
  };
}
