// Hand-built SocketRecord and Snapshot fixtures for model and view tests. Keys follow the
// parsers' format ("proto laddr:lport raddr:rport inode", "unix inode") so flow matching in the
// tracker behaves as it does on real data.

import type { Snapshot, SocketOwner, SocketRecord } from '../../src/model/types.js';

export type RecordOverrides = Partial<Omit<SocketRecord, 'owner'>> & {
  /** Shorthand for an owner: pid and command; uid/fd/commandLine get defaults. */
  readonly owner?: SocketOwner | { readonly pid: number; readonly command: string } | null;
};

export function owner(pid: number, command: string): SocketOwner {
  return { pid, command, commandLine: command, uid: 1000, fd: 3 };
}

/** Key in the parsers' format; exported so tests can predict keys. */
export function keyOf(r: Pick<SocketRecord, 'protocol' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort' | 'inode'>): string {
  return r.protocol === 'unix'
    ? `unix ${r.inode}`
    : `${r.protocol} ${r.localAddress}:${r.localPort} ${r.remoteAddress}:${r.remotePort} ${r.inode}`;
}

let nextInode = 100_000;

/** A TCP ESTABLISHED socket 127.0.0.1:40000 → 127.0.0.1:80 unless overridden; the key is derived. */
export function rec(overrides: RecordOverrides = {}): SocketRecord {
  const protocol = overrides.protocol ?? 'tcp';
  const isUnix = protocol === 'unix';
  const base = {
    protocol,
    state: overrides.state ?? (isUnix ? 'CONNECTED' : 'ESTABLISHED'),
    localAddress: overrides.localAddress ?? (isUnix ? '' : protocol.endsWith('6') ? '::1' : '127.0.0.1'),
    localPort: overrides.localPort ?? (isUnix ? 0 : 40000),
    remoteAddress: overrides.remoteAddress ?? (isUnix ? '' : protocol.endsWith('6') ? '::1' : '127.0.0.1'),
    remotePort: overrides.remotePort ?? (isUnix ? 0 : 80),
    inode: overrides.inode ?? nextInode++,
  };
  const o = overrides.owner;
  return {
    key: overrides.key ?? keyOf(base),
    ...base,
    recvQ: overrides.recvQ ?? 0,
    sendQ: overrides.sendQ ?? 0,
    timer: overrides.timer ?? 'off',
    timerMs: overrides.timerMs ?? 0,
    retransmits: overrides.retransmits ?? 0,
    uid: overrides.uid ?? 1000,
    rtoMs: overrides.rtoMs ?? null,
    atoMs: overrides.atoMs ?? null,
    cwnd: overrides.cwnd ?? null,
    ssthresh: overrides.ssthresh ?? null,
    drops: overrides.drops ?? null,
    path: overrides.path ?? null,
    unixType: overrides.unixType ?? (isUnix ? 'stream' : null),
    owner: o === undefined || o === null ? null : 'fd' in o ? o : owner(o.pid, o.command),
    sharedBy: overrides.sharedBy ?? 0,
    user: overrides.user ?? 'alice',
  };
}

/** The same socket with some fields changed; the key is re-derived unless `key` is given. */
export function withChanges(r: SocketRecord, changes: RecordOverrides): SocketRecord {
  const merged = rec({ ...r, key: undefined, ...changes } as RecordOverrides);
  return merged;
}

/** A snapshot taken at `takenAtMs` holding `sockets`; everything else is empty. */
export function snap(takenAtMs: number, sockets: readonly SocketRecord[]): Snapshot {
  return {
    takenAtMs,
    host: 'testhost',
    sockets,
    counters: {},
    issues: { skippedLines: 0, files: {} },
    owners: { enabled: false, unreadableProcesses: 0, scannedProcesses: 0, linksRead: 0, durationMs: 0 },
    cost: { readMs: 0, parseMs: 0, ownersMs: 0, rows: sockets.length },
  };
}
