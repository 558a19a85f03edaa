// Recordings of a session (`--record FILE`, `sockscope replay FILE`): pure encoding of snapshots
// as deltas. A frame carries the sockets that appeared or changed (upserts), the keys that went
// away, and the kernel counters that moved; every KEYFRAME_EVERY frames a full frame lets a
// player seek without decoding from the start. Timer countdowns alone do not make a socket
// "changed" (every TIME_WAIT socket's timer moves every tick): a replayed timer shows its value
// when the socket last changed otherwise.

import type { KernelCounters, Snapshot, SocketOwner, SocketRecord } from './types.js';

export const RECORDING_VERSION = 1;
export const KEYFRAME_EVERY = 300;

export interface RecordingHeader {
  readonly sockscope: 'recording';
  readonly version: number;
  readonly host: string;
  readonly startedAtMs: number;
}

/** Writes a session's snapshots as frames (cli/recording-file.ts writes them to a file). */
export interface Recorder {
  write(snapshot: Snapshot): void;
  close(): void;
  readonly bytesWritten: number;
}

/** A recording opened for playing (cli/recording-file.ts reads one from a file). */
export interface Recording {
  readonly header: RecordingHeader;
  readonly frames: number;
  /** The snapshot at frame i (0-based), decoded from the nearest keyframe before it. */
  snapshotAt(i: number): Snapshot;
  /** takenAtMs of frame i without decoding it fully (cached after first decode). */
  timeAt(i: number): number;
}

/** A socket as a positional array: ~3x smaller than an object in JSON. */
type PackedOwner = [pid: number, command: string, commandLine: string, uid: number, fd: number];
type PackedSocket = [
  key: string,
  protocol: SocketRecord['protocol'],
  state: SocketRecord['state'],
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
  recvQ: number,
  sendQ: number,
  timer: SocketRecord['timer'],
  timerMs: number,
  retransmits: number,
  uid: number,
  inode: number,
  rtoMs: number | null,
  atoMs: number | null,
  cwnd: number | null,
  ssthresh: number | null,
  drops: number | null,
  path: string | null,
  unixType: SocketRecord['unixType'],
  owner: PackedOwner | null,
  sharedBy: number,
  user: string,
];

export interface Frame {
  /** takenAtMs */
  readonly t: number;
  /** Keyframe: the socket table restarts from `u` alone. */
  readonly k: boolean;
  /** Upserted sockets. */
  readonly u: readonly PackedSocket[];
  /** Removed keys. */
  readonly r: readonly string[];
  /** Counters that changed (all of them on a keyframe). */
  readonly c: Readonly<Record<string, number>>;
  readonly host: string;
}

function pack(s: SocketRecord): PackedSocket {
  const o = s.owner;
  return [
    s.key,
    s.protocol,
    s.state,
    s.localAddress,
    s.localPort,
    s.remoteAddress,
    s.remotePort,
    s.recvQ,
    s.sendQ,
    s.timer,
    s.timerMs,
    s.retransmits,
    s.uid,
    s.inode,
    s.rtoMs,
    s.atoMs,
    s.cwnd,
    s.ssthresh,
    s.drops,
    s.path,
    s.unixType,
    o === null ? null : [o.pid, o.command, o.commandLine, o.uid, o.fd],
    s.sharedBy,
    s.user,
  ];
}

function unpack(p: PackedSocket): SocketRecord {
  const o = p[21];
  const owner: SocketOwner | null = o === null ? null : { pid: o[0], command: o[1], commandLine: o[2], uid: o[3], fd: o[4] };
  return {
    key: p[0],
    protocol: p[1],
    state: p[2],
    localAddress: p[3],
    localPort: p[4],
    remoteAddress: p[5],
    remotePort: p[6],
    recvQ: p[7],
    sendQ: p[8],
    timer: p[9],
    timerMs: p[10],
    retransmits: p[11],
    uid: p[12],
    inode: p[13],
    rtoMs: p[14],
    atoMs: p[15],
    cwnd: p[16],
    ssthresh: p[17],
    drops: p[18],
    path: p[19],
    unixType: p[20],
    owner,
    sharedBy: p[22],
    user: p[23],
  };
}

/** Did anything a viewer cares about change (everything but the timer countdown)? */
function changed(a: SocketRecord, b: SocketRecord): boolean {
  return (
    a.state !== b.state ||
    a.recvQ !== b.recvQ ||
    a.sendQ !== b.sendQ ||
    a.timer !== b.timer ||
    a.retransmits !== b.retransmits ||
    a.cwnd !== b.cwnd ||
    a.ssthresh !== b.ssthresh ||
    a.rtoMs !== b.rtoMs ||
    a.drops !== b.drops ||
    a.sharedBy !== b.sharedBy ||
    a.owner?.pid !== b.owner?.pid ||
    a.owner?.fd !== b.owner?.fd ||
    a.owner?.command !== b.owner?.command
  );
}

/** Turns successive snapshots into frames. Keeps the last written state of every socket. */
export class FrameEncoder {
  private last = new Map<string, SocketRecord>();
  private counters: KernelCounters = {};
  private frames = 0;

  encode(snapshot: Snapshot): Frame {
    const key = this.frames % KEYFRAME_EVERY === 0;
    this.frames++;
    const next = new Map<string, SocketRecord>();
    const u: PackedSocket[] = [];
    for (const s of snapshot.sockets) {
      next.set(s.key, s);
      const before = key ? undefined : this.last.get(s.key);
      if (before === undefined || changed(before, s)) u.push(pack(s));
      else next.set(s.key, before); // keep what the player has, so drift cannot accumulate
    }
    const r: string[] = [];
    if (!key) for (const k of this.last.keys()) if (!next.has(k)) r.push(k);
    const c: Record<string, number> = {};
    for (const [name, value] of Object.entries(snapshot.counters)) if (key || this.counters[name] !== value) c[name] = value;
    this.last = next;
    this.counters = snapshot.counters;
    return { t: snapshot.takenAtMs, k: key, u, r, c, host: snapshot.host };
  }
}

/** Rebuilds snapshots from frames, in order. */
export class FrameDecoder {
  private sockets = new Map<string, SocketRecord>();
  private counters: Record<string, number> = {};

  apply(frame: Frame): Snapshot {
    if (frame.k) {
      this.sockets = new Map();
      this.counters = {};
    }
    for (const k of frame.r) this.sockets.delete(k);
    for (const p of frame.u) this.sockets.set(p[0], unpack(p));
    this.counters = { ...this.counters, ...frame.c };
    return {
      takenAtMs: frame.t,
      host: frame.host,
      sockets: [...this.sockets.values()],
      counters: this.counters,
      issues: { skippedLines: 0, files: {} },
      owners: { enabled: true, unreadableProcesses: 0, scannedProcesses: 0, linksRead: 0, durationMs: 0 },
      cost: { readMs: 0, parseMs: 0, ownersMs: 0, rows: this.sockets.size },
    };
  }
}

const isPackedSocket = (p: unknown): boolean =>
  Array.isArray(p) && p.length >= 24 && typeof p[0] === 'string' && (p[21] === null || (Array.isArray(p[21]) && p[21].length >= 5));

/**
 * A frame read from a file, checked for the shape FrameDecoder relies on (field types, packed
 * sockets as arrays); throws Error(message()) otherwise. Values are not trusted beyond that:
 * strings still go through safeText before a terminal.
 */
export function checkFrame(doc: unknown, message: () => string): Frame {
  const f = doc as Partial<Record<keyof Frame, unknown>> | null;
  const ok =
    f !== null &&
    typeof f === 'object' &&
    typeof f.t === 'number' &&
    Number.isFinite(f.t) &&
    typeof f.k === 'boolean' &&
    typeof f.host === 'string' &&
    Array.isArray(f.u) &&
    f.u.every(isPackedSocket) &&
    Array.isArray(f.r) &&
    f.r.every((k) => typeof k === 'string') &&
    f.c !== null &&
    typeof f.c === 'object' &&
    !Array.isArray(f.c) &&
    Object.values(f.c).every((v) => typeof v === 'number');
  if (!ok) throw new Error(message());
  return doc as Frame;
}
