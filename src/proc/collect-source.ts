// Collection off the main thread: a worker reads /proc/net, parses, de-duplicates and joins owners
// (collectSnapshotAsync, with its own owner worker), and sends each snapshot as a delta against
// the one before it: per socket either the position of the same record in the previous snapshot
// (its line did not change: the record object the main thread already holds is reused, as the
// in-process collector does) or a new record. At 100k sockets the main thread then receives only
// the few percent of lines that changed, and never parses: keys are answered while a refresh is
// being collected.

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Snapshot, SocketOwner, SocketRecord } from '../model/types.js';

/** Message to the collect worker. */
export type CollectRequest = { readonly type: 'prime' } | { readonly type: 'collect'; readonly id: number };

/** Message from the collect worker. */
export type CollectReply =
  | {
      readonly id: number;
      readonly ok: true;
      /** The snapshot without its sockets (those are in sources and fresh). */
      readonly meta: Omit<Snapshot, 'sockets'>;
      /** Per socket: >= 0, its position in the previous snapshot sent; < 0, fresh[-1 - value]. */
      readonly sources: Int32Array;
      readonly fresh: readonly SocketRecord[];
    }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** Unasked message from the collect worker: the owner scan's first pass is done (owners join from now on). */
export type CollectNotice = { readonly type: 'primed' };

export const COLLECT_WORKER_MARK = 'sockscope-collect-worker';

/** What the worker needs to build its collector (workerData). */
export interface CollectWorkerData {
  readonly mark: typeof COLLECT_WORKER_MARK;
  readonly procRoot: string;
  /** Join owners (a second worker, started by this one). */
  readonly processes: boolean;
  /** The owner worker's file when it is not next to this module (the single-file bundle). */
  readonly ownerWorkerPath: string | null;
}

/**
 * Encode a snapshot's sockets against the previous one sent (`sent`: record → its position).
 * Returns the next `sent` map. Pure: used by the worker and the tests.
 */
export function encodeSockets(
  sockets: readonly SocketRecord[],
  sent: ReadonlyMap<SocketRecord, number>,
): { sources: Int32Array; fresh: SocketRecord[]; sent: Map<SocketRecord, number> } {
  const sources = new Int32Array(sockets.length);
  const fresh: SocketRecord[] = [];
  const next = new Map<SocketRecord, number>();
  for (let i = 0; i < sockets.length; i++) {
    const r = sockets[i] as SocketRecord;
    const j = sent.get(r);
    if (j === undefined) {
      sources[i] = -1 - fresh.length;
      fresh.push(r);
    } else sources[i] = j;
    next.set(r, i);
  }
  return { sources, fresh, sent: next };
}

/**
 * A record received from the worker, rebuilt as an object literal of this thread. Objects made by
 * structured clone get hidden classes of their own, on which every field read of the tracker,
 * aggregation and findings was ~1.5x slower (100k records, node 20); the owner objects that
 * records share stay shared.
 */
function localRecord(r: SocketRecord, owners: Map<SocketOwner, SocketOwner>): SocketRecord {
  let owner: SocketOwner | null = null;
  if (r.owner !== null) {
    owner = owners.get(r.owner) ?? null;
    if (owner === null) {
      const o = r.owner;
      owner = { pid: o.pid, command: o.command, commandLine: o.commandLine, uid: o.uid, fd: o.fd };
      owners.set(o, owner);
    }
  }
  return {
    key: r.key,
    protocol: r.protocol,
    state: r.state,
    localAddress: r.localAddress,
    localPort: r.localPort,
    remoteAddress: r.remoteAddress,
    remotePort: r.remotePort,
    recvQ: r.recvQ,
    sendQ: r.sendQ,
    timer: r.timer,
    timerMs: r.timerMs,
    retransmits: r.retransmits,
    uid: r.uid,
    inode: r.inode,
    rtoMs: r.rtoMs,
    atoMs: r.atoMs,
    cwnd: r.cwnd,
    ssthresh: r.ssthresh,
    drops: r.drops,
    path: r.path,
    unixType: r.unixType,
    owner,
    sharedBy: r.sharedBy,
    user: r.user,
  };
}

/** Rebuild the sockets from the previous snapshot's records and the fresh ones. */
export function decodeSockets(sources: Int32Array, received: readonly SocketRecord[], previous: readonly SocketRecord[]): SocketRecord[] {
  const owners = new Map<SocketOwner, SocketOwner>();
  const fresh = received.map((r) => localRecord(r, owners));
  const out = new Array<SocketRecord>(sources.length);
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i] as number;
    const r = s >= 0 ? previous[s] : fresh[-1 - s];
    if (r === undefined) throw new Error(`collect worker: socket ${i} refers to ${s}, which is not there`);
    out[i] = r;
  }
  return out;
}

let workerPathOverride: string | null = null;

/** Used only by the single-file bundle's entry: workers start on the bundle file. @public */
export function setCollectWorkerPath(path: string | null): void {
  workerPathOverride = path;
}

function collectWorkerPath(): string | null {
  if (workerPathOverride !== null) return workerPathOverride;
  const url = new URL('./collect-worker.js', import.meta.url);
  return fs.existsSync(url) ? url.pathname : null;
}

/** Snapshots from the collect worker (the poller's collect/prime/close). */
export interface CollectSource {
  /** Start the owner scan's first pass; resolves when owners join snapshots (see createLiveCollector). */
  prime(): Promise<void>;
  /** One snapshot; `onPartial`: see LiveCollector.collect (the collect worker hands over none). */
  collect(onPartial?: (snapshot: Snapshot) => void): Promise<Snapshot>;
  close(): Promise<void>;
}

/**
 * Start the collect worker over `procRoot`; null when it cannot run here (sources run by tsx,
 * no compiled worker): the caller collects in this thread. When the worker dies, `fallback`
 * collects from then on.
 */
export function createWorkerCollectSource(
  options: { readonly procRoot: string; readonly processes: boolean; readonly ownerWorkerPath: string | null },
  fallback: () => CollectSource,
): CollectSource | null {
  const path = collectWorkerPath();
  if (path === null) return null;
  const data: CollectWorkerData = { mark: COLLECT_WORKER_MARK, ...options };
  let worker: Worker | null = new Worker(path, { workerData: data });
  worker.unref();
  let inline: CollectSource | null = null;
  let previous: readonly SocketRecord[] = [];
  let nextId = 1;
  const pending = new Map<number, { resolve: (s: Snapshot) => void; reject: (e: Error) => void }>();
  const useInline = (): CollectSource => (inline ??= fallback());
  const fail = (): void => {
    worker = null;
    // A prime waiting on a worker that died: collection goes on inline, whose own prime says when owners join.
    if (primed !== null) {
      const resolve = primed;
      primed = null;
      void useInline().prime().then(resolve, resolve);
    }
    for (const [id, p] of pending) {
      pending.delete(id);
      useInline().collect().then(p.resolve, p.reject);
    }
  };
  let primed: (() => void) | null = null;
  worker.on('message', (reply: CollectReply | CollectNotice) => {
    if ('type' in reply) {
      primed?.();
      primed = null;
      return;
    }
    const p = pending.get(reply.id);
    if (p === undefined) return;
    pending.delete(reply.id);
    if (!reply.ok) {
      p.reject(new Error(reply.message));
      return;
    }
    const sockets = decodeSockets(reply.sources, reply.fresh, previous);
    previous = sockets;
    p.resolve({ ...reply.meta, sockets });
  });
  worker.on('error', fail);
  worker.on('exit', () => {
    if (worker !== null) fail();
  });
  return {
    prime() {
      if (worker === null) return useInline().prime();
      const w = worker;
      return new Promise<void>((resolve) => {
        primed = resolve;
        w.postMessage({ type: 'prime' } satisfies CollectRequest);
      });
    },
    collect() {
      if (worker === null) return useInline().collect();
      const id = nextId++;
      return new Promise<Snapshot>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker?.postMessage({ type: 'collect', id } satisfies CollectRequest);
      });
    },
    async close() {
      const w = worker;
      worker = null;
      if (w !== null) await w.terminate();
      await inline?.close();
    },
  };
}
