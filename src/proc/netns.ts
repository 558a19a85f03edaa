// Network namespaces, read through a ProcFs. The kernel shows, under /proc/<pid>/net, the
// tables of the network namespace that <pid> lives in; /proc/<pid>/ns/net is a symlink whose
// target ("net:[4026532281]") names that namespace by its nsfs inode. Nothing here enters a
// namespace (no setns): everything is plain reads of /proc, as root or as the owner of <pid>.

import type { CountsByGroup } from '../model/aggregate.js';
import { collectStateCounts } from './collect-counts.js';
import type { ProcFs, ProcStat } from './proc-fs.js';
import { parseDecimal } from './read-owners.js';

/**
 * A view of `base` in which `net` and `net/...` are read from `<pid>/net/...`, so every
 * collector sees the tables of that process's network namespace. Everything else (the pid
 * directories for owner mapping, sys/, …) still comes from `base`. `root` stays base's root.
 */
export function createNetnsProcFs(base: ProcFs, pid: number): ProcFs {
  const prefix = `${pid}/net`;
  const map = (rel: string): string => (rel === 'net' ? prefix : rel.startsWith('net/') ? `${prefix}${rel.slice(3)}` : rel);
  const view: ProcFs = {
    root: base.root,
    readText: (rel) => base.readText(map(rel)),
    readTextAsync: (rel) => base.readTextAsync(map(rel)),
    readDir: (rel) => base.readDir(map(rel)),
    readLink: (rel) => base.readLink(map(rel)),
    statSize: (rel) => base.statSize(map(rel)),
    statUid: (rel) => base.statUid(map(rel)),
    lastError: () => base.lastError(),
  };
  const readResult = base.readTextResultAsync;
  if (readResult !== undefined) view.readTextResultAsync = (rel) => readResult.call(base, map(rel));
  const readBytes = base.readBytes;
  if (readBytes !== undefined) view.readBytes = (rel) => readBytes.call(base, map(rel));
  const readBytesInto = base.readBytesIntoAsync;
  if (readBytesInto !== undefined) view.readBytesIntoAsync = (rel, into) => readBytesInto.call(base, map(rel), into);
  const readBytesResult = base.readBytesResultAsync;
  if (readBytesResult !== undefined) view.readBytesResultAsync = (rel) => readBytesResult.call(base, map(rel));
  const stat = base.stat;
  if (stat !== undefined) {
    return { ...view, stat: (rel: string): ProcStat | null => stat.call(base, map(rel)) };
  }
  return view;
}

/** Target of /proc/<pid>/ns/net ("net:[4026531840]"), or null (exited, EACCES, recorded tree). */
export function readNetnsId(procFs: ProcFs, pid: number): string | null {
  return procFs.readLink(`${pid}/ns/net`);
}

/** The nsfs inode in "net:[4026531840]", or null when the text has another shape. */
export function parseNetnsInode(id: string): number | null {
  const m = /^net:\[(\d+)\]$/.exec(id);
  return m === null ? null : Number(m[1]);
}

/** /proc/<pid>/comm without its newline, or "" when unreadable. Untrusted text. */
export function readCommand(procFs: ProcFs, pid: number): string {
  const comm = procFs.readText(`${pid}/comm`);
  return comm === null ? '' : comm.endsWith('\n') ? comm.slice(0, -1) : comm;
}

/**
 * Owner-scan filter: only processes whose /proc/<pid>/ns/net is the target's. Returns null when
 * the target's link cannot be read (no way to compare: scan everything). Processes whose link
 * cannot be read are left out. Socket inodes are unique machine-wide (sockfs), so the filter
 * only saves work and keeps other namespaces' processes out of the picture.
 */
export function createNetnsPidFilter(procFs: ProcFs, pid: number): ((pid: number) => boolean) | null {
  const target = readNetnsId(procFs, pid);
  if (target === null) return null;
  return (p) => p === pid || readNetnsId(procFs, p) === target;
}

export type NetnsTarget =
  | { readonly ok: true; readonly procFs: ProcFs; readonly netnsId: string | null; readonly command: string; readonly label: string }
  | { readonly ok: false; readonly message: string };

/**
 * Check `--pid PID` and build its view. The process must exist and its net/ directory be
 * readable; the namespace id is best effort (a recorded tree may not have ns/ links).
 */
export function openNetnsTarget(base: ProcFs, pid: number): NetnsTarget {
  if (base.readDir(`${pid}/net`) === null) {
    const code = base.lastError();
    if (code === 'ENOENT' || code === 'ESRCH') return { ok: false, message: `no process with pid ${pid}` };
    return { ok: false, message: `cannot read ${base.root}/${pid}/net (${code ?? 'error'}): run as root or as the owner of pid ${pid}` };
  }
  const netnsId = readNetnsId(base, pid);
  const command = readCommand(base, pid);
  return { ok: true, procFs: createNetnsProcFs(base, pid), netnsId, command, label: formatNetnsLabel(netnsId, pid, command) };
}

/** "net:[4026532281] via pid 1234 (nginx)"; "net:[?]" when the link could not be read. */
export function formatNetnsLabel(netnsId: string | null, pid: number, command: string): string {
  return `${netnsId ?? 'net:[?]'} via pid ${pid}${command === '' ? '' : ` (${command})`}`;
}

/** One network namespace, found through the processes living in it. */
export interface NetnsInfo {
  /** "net:[4026531840]" */
  readonly id: string;
  /** nsfs inode of the namespace, or null when the id has another shape. */
  readonly inode: number | null;
  /** Every pid seen in it, ascending; pids[0] labels the namespace. */
  readonly pids: readonly number[];
  /** comm of pids[0] (untrusted text). */
  readonly command: string;
  /** Whether this is the namespace of /proc/self (sockscope's own), when known. */
  readonly current: boolean;
}

export interface NetnsListing {
  /** Ordered by lowest pid (the host's namespace, holding pid 1, usually first). */
  readonly namespaces: readonly NetnsInfo[];
  /** Processes whose ns/net link could not be read (permission): their namespaces may be missing. */
  readonly unreadableProcesses: number;
}

/** Every distinct network namespace that some process lives in (readlink of /proc/<pid>/ns/net). */
export function listNetworkNamespaces(procFs: ProcFs): NetnsListing {
  const byId = new Map<string, number[]>();
  let unreadable = 0;
  const pids = (procFs.readDir('') ?? [])
    .map(parseDecimal)
    .filter((p) => p >= 0)
    .sort((a, b) => a - b);
  for (const pid of pids) {
    const id = readNetnsId(procFs, pid);
    if (id === null) {
      const code = procFs.lastError();
      if (code !== 'ENOENT' && code !== 'ESRCH') unreadable += 1; // else: exited meanwhile
      continue;
    }
    const list = byId.get(id);
    if (list === undefined) byId.set(id, [pid]);
    else list.push(pid);
  }
  const self = procFs.readLink('self/ns/net');
  const namespaces = [...byId].map(([id, list]): NetnsInfo => ({
    id,
    inode: parseNetnsInode(id),
    pids: list,
    command: readCommand(procFs, list[0] ?? 0),
    current: id === self,
  }));
  namespaces.sort((a, b) => (a.pids[0] ?? 0) - (b.pids[0] ?? 0));
  return { namespaces, unreadableProcesses: unreadable };
}

/** Counts per protocol and state of one namespace, read through one of its processes. */
export interface NetnsCounts {
  readonly netns: NetnsInfo;
  /** The pid whose /proc/<pid>/net was read (the first of netns.pids still alive). */
  readonly pid: number;
  /** comm of that pid. */
  readonly command: string;
  readonly counts: CountsByGroup;
  /** Lines that did not parse, per file. */
  readonly skipped: Readonly<Record<string, number>>;
}

/**
 * Counts for every namespace (the `--summary` fast path per namespace). A namespace whose
 * processes all exited between the listing and the read is left out.
 */
export function collectNetnsCounts(procFs: ProcFs, listing: NetnsListing = listNetworkNamespaces(procFs)): NetnsCounts[] {
  const out: NetnsCounts[] = [];
  for (const netns of listing.namespaces) {
    for (const pid of netns.pids) {
      const view = createNetnsProcFs(procFs, pid);
      // A process that exited (or moved to another namespace: setns) is skipped for the next.
      if (view.readDir('net') === null || readNetnsId(procFs, pid) !== netns.id) continue;
      const { counts, files } = collectStateCounts(view);
      const command = pid === netns.pids[0] ? netns.command : readCommand(procFs, pid);
      out.push({ netns, pid, command, counts, skipped: files });
      break;
    }
  }
  return out;
}
