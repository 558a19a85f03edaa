// Join UNIX socket peers (inode → peer inode, from `ss -xH`) with one snapshot: each connected
// UNIX socket learns its other end's inode and, when the snapshot knows who holds that inode,
// the peer's pid and process. Pure.

import type { SocketRecord } from './types.js';

/** The other end of one UNIX socket. */
export interface UnixPeer {
  readonly peerInode: number;
  /** Holder of the peer's inode in the same snapshot; null when unknown (other namespace, no permission). */
  readonly peerPid: number | null;
  /** Untrusted text (/proc/<pid>/comm). */
  readonly peerProcess: string | null;
  /** The peer's bound path, when it has one (e.g. the server side of /run/docker.sock). */
  readonly peerPath: string | null;
}

/** Socket inode → its peer, for the UNIX sockets of `sockets` that ss reported a peer for. */
export function joinUnixPeers(
  sockets: readonly SocketRecord[],
  pairs: readonly { readonly inode: number; readonly peerInode: number }[],
): Map<number, UnixPeer> {
  const peerOf = new Map<number, number>();
  for (const p of pairs) if (p.inode !== 0 && p.peerInode !== 0) peerOf.set(p.inode, p.peerInode);
  const byInode = new Map<number, SocketRecord>();
  // Indexed: the snapshot holds every socket (100k TCP ones at scale) and this runs once per
  // `ss -xH` read, unoptimised: for…of allocated an iterator result per socket (allocation profile).
  for (let i = 0; i < sockets.length; i++) {
    const s = sockets[i] as SocketRecord;
    if (s.protocol === 'unix' && s.inode !== 0) byInode.set(s.inode, s);
  }
  const joined = new Map<number, UnixPeer>();
  for (const s of byInode.values()) {
    const peerInode = peerOf.get(s.inode);
    if (peerInode === undefined) continue;
    const peer = byInode.get(peerInode);
    joined.set(s.inode, {
      peerInode,
      peerPid: peer?.owner?.pid ?? null,
      peerProcess: peer?.owner?.command ?? null,
      peerPath: peer?.path ?? null,
    });
  }
  return joined;
}

/** One pair of processes talking over UNIX sockets (by-process view). */
export interface UnixTalk {
  readonly pid: number;
  readonly process: string;
  readonly peerPid: number;
  readonly peerProcess: string;
  /** Connected socket pairs between the two (each pair counted once). */
  readonly connections: number;
  /** A path one of the two ends is bound to (the server's), when any. */
  readonly path: string | null;
}

/**
 * Which processes talk to which over UNIX sockets: socket pairs whose two ends have known owners,
 * counted once per pair, most connections first. A process talking to itself is included.
 */
export function countUnixTalks(sockets: readonly SocketRecord[], peers: ReadonlyMap<number, UnixPeer>): UnixTalk[] {
  const talks = new Map<
    string,
    { pid: number; process: string; peerPid: number; peerProcess: string; connections: number; path: string | null }
  >();
  for (const s of sockets) {
    if (s.protocol !== 'unix' || s.owner === null) continue;
    const p = peers.get(s.inode);
    if (p === undefined || p.peerPid === null) continue;
    // Count each pair from the end with the smaller inode only.
    if (p.peerInode < s.inode && peers.has(p.peerInode)) continue;
    const [a, b] = s.owner.pid <= p.peerPid ? [s.owner.pid, p.peerPid] : [p.peerPid, s.owner.pid];
    const aName = a === s.owner.pid ? s.owner.command : (p.peerProcess ?? '');
    const bName = b === p.peerPid && a !== b ? (p.peerProcess ?? '') : s.owner.command;
    const key = `${a} ${b}`;
    let t = talks.get(key);
    if (t === undefined) {
      t = { pid: a, process: aName, peerPid: b, peerProcess: bName, connections: 0, path: null };
      talks.set(key, t);
    }
    t.connections++;
    t.path ??= s.path ?? p.peerPath;
  }
  return [...talks.values()].sort((x, y) => y.connections - x.connections || x.pid - y.pid || x.peerPid - y.peerPid);
}

/** One process's UNIX connections to one other process (or to itself). */
export interface UnixPeerProcess {
  readonly peerPid: number;
  /** Untrusted text (/proc/<pid>/comm). */
  readonly peerProcess: string;
  /** This process's sockets whose other end the peer holds (a pair inside one process counts once). */
  readonly connections: number;
  /** A path one of the two ends is bound to (the server's), when any: e.g. /run/dbus/system_bus_socket. */
  readonly path: string | null;
}

/**
 * For each process (keyed like countByProcess: its pid as text), the processes at the other end
 * of its connected UNIX sockets, most connections first: what `ss -xp` shows when each socket's
 * peer inode is looked up among the users of the others. Counted from `sockets` (the filtered
 * ones): a process is listed with the peers of its own sockets that are shown. Sockets whose
 * peer's holder is unknown (another namespace, no permission) are left out.
 */
export function countUnixPeersByProcess(
  sockets: readonly SocketRecord[],
  peers: ReadonlyMap<number, UnixPeer>,
): Map<string, UnixPeerProcess[]> {
  const shownInodes = new Set<number>();
  for (const s of sockets) if (s.protocol === 'unix' && s.inode !== 0) shownInodes.add(s.inode);
  const byProcess = new Map<string, Map<number, { peerProcess: string; connections: number; path: string | null }>>();
  for (const s of sockets) {
    if (s.protocol !== 'unix' || s.owner === null) continue;
    const p = peers.get(s.inode);
    if (p === undefined || p.peerPid === null) continue;
    // A socketpair inside one process: count the pair once (from its smaller inode when both are shown).
    if (p.peerPid === s.owner.pid && p.peerInode < s.inode && shownInodes.has(p.peerInode)) continue;
    const key = String(s.owner.pid);
    let mine = byProcess.get(key);
    if (mine === undefined) {
      mine = new Map();
      byProcess.set(key, mine);
    }
    const t = mine.get(p.peerPid) ?? { peerProcess: p.peerProcess ?? '', connections: 0, path: null };
    t.connections++;
    t.path ??= s.path ?? p.peerPath;
    mine.set(p.peerPid, t);
  }
  const out = new Map<string, UnixPeerProcess[]>();
  for (const [key, mine] of byProcess)
    out.set(
      key,
      [...mine.entries()].map(([peerPid, t]) => ({ peerPid, ...t })).sort((a, b) => b.connections - a.connections || a.peerPid - b.peerPid),
    );
  return out;
}
