// Loopback TCP load generator: builds a population of sockets in chosen states
// (ESTABLISHED, CLOSE_WAIT/FIN_WAIT2, TIME_WAIT, LISTEN, plus optional churn) for
// the benchmark and for soak tests.
//
// Library only: importing this module has no side effects. The CLI is
// bench/loadgen-cli.ts and the per-process socket holder is bench/loadgen-worker.ts.
//
// Why several processes: one process may hold at most ~20,000 open files here, so
// the sockets are spread over worker processes that each keep <= FD_BUDGET fds.
// Workers are either servers (listeners + accepted sockets) or clients, so the two
// ends of a connection live in different processes (as in real life), and for speed:
// libuv (Node 20) accepts ONE connection per listener per event-loop iteration, so a
// process that also completes hundreds of connects per iteration accepts at a crawl.
//
// Why several addresses and listeners: a client socket needs a free ephemeral port
// (net.ipv4.ip_local_port_range, ~28k ports) per (source address); clients bind
// round-robin to 127.0.0.1..127.0.0.N, and every listener receives at most about
// `somaxconn` connections so its accept queue can never overflow (an overflow drops
// SYNs and stalls the build for seconds of retransmission).

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------
// Public types

export type LoopbackHost = '127.0.0.1' | '::1';

export interface PopulationSpec {
  /** ESTABLISHED connections (pairs): each shows as 2 ESTABLISHED sockets. */
  readonly established?: number;
  /** Sockets left in CLOSE_WAIT (server side of a half-closed connection). */
  readonly closeWait?: number;
  /**
   * Sockets held in FIN_WAIT2 (client side that sent FIN and still holds the socket).
   * On loopback every FIN_WAIT2 socket's peer is one of our CLOSE_WAIT sockets, so
   * finWait2 <= closeWait. Defaults to closeWait (every CLOSE_WAIT has a FIN_WAIT2 peer).
   * The closeWait - finWait2 extra ones are "leaked" CLOSE_WAITs whose client closed
   * its socket: that orphaned FIN_WAIT2 is visible for net.ipv4.tcp_fin_timeout (60 s).
   */
  readonly finWait2?: number;
  /** TIME_WAIT sockets (client side of connections closed client-first). */
  readonly timeWait?: number;
  /** Minimum number of listening sockets for the ESTABLISHED connections (default: automatic). */
  readonly listenPorts?: number;
  /** Connections opened and closed per second, continuously, after the build (default 0). */
  readonly churnPerSec?: number;
  /**
   * How churn connections close: 'rst' (default) leaves no TIME_WAIT, so the requested
   * counts stay exact; 'fin' closes client-first and adds ~60 x churnPerSec TIME_WAIT.
   */
  readonly churnClose?: 'rst' | 'fin';
  /** Loopback family (default '127.0.0.1'). IPv6 has a single loopback address, ::1. */
  readonly host?: LoopbackHost;
  /**
   * IPv4 only: how many loopback addresses 127.0.0.1..127.0.0.N to use for listeners and
   * client sources (default: max(8, client sockets / 1,500), at most 254).
   */
  readonly addresses?: number;
  /** IPv4 only: bind client sockets round-robin to the loopback addresses (default true). */
  readonly bindSource?: boolean;
  /**
   * Recreate TIME_WAIT sockets as they expire (they last 60 s) so the count holds for
   * long runs (default true). The count dips briefly each time a batch expires.
   */
  readonly maintainTimeWait?: boolean;
  /** Number of worker processes (default: enough to keep each under FD_BUDGET fds, at least 2). */
  readonly workers?: number;
  /** Connection attempts in flight per worker while building (default 500). */
  readonly concurrency?: number;
  /** Reject if the population is not complete after this long (default 120 s). */
  readonly timeoutMs?: number;
  /** Compiled worker script (default: loadgen-worker.js next to this module, else dist/bench/). */
  readonly workerPath?: string;
  /** Called with fresh counters while building (at most every ~50 ms per worker report). */
  readonly onProgress?: (stats: PopulationStats) => void;
}

export type ListenerKind = 'established' | 'half-close' | 'time-wait' | 'churn';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface Assignment extends Endpoint {
  readonly count: number;
}

export interface ListenerInfo extends Endpoint {
  readonly kind: ListenerKind;
  /** Worker process that owns the listener (and the server side of its connections). */
  readonly pid: number;
}

export interface WorkerStats {
  readonly index: number;
  readonly pid: number;
  /** Open file descriptors of the worker (sampled about once a second). */
  readonly fds: number;
  /** This worker's client-side build finished. */
  readonly built: boolean;
  readonly exited: boolean;
  readonly client: {
    /** ESTABLISHED client sockets held. */
    readonly established: number;
    /** Half-closed client sockets held (FIN_WAIT2). */
    readonly finWait2: number;
    /** Half-closed client sockets closed on purpose (orphaned FIN_WAIT2, leaked CLOSE_WAIT peer). */
    readonly orphaned: number;
    /** TIME_WAIT sockets created less than 60 s ago (what the kernel should still show). */
    readonly timeWait: number;
    readonly timeWaitCreated: number;
    /** Connection attempts in flight. */
    readonly connecting: number;
    readonly retries: number;
    /** Held sockets that closed unexpectedly. */
    readonly lost: number;
  };
  readonly server: {
    readonly accepted: number;
    /** ESTABLISHED server sockets held. */
    readonly established: number;
    /** Server sockets that received FIN and are held open (CLOSE_WAIT). */
    readonly closeWait: number;
  };
  readonly churn: { readonly opened: number; readonly closed: number; readonly failed: number; readonly skipped: number };
  readonly lastError?: string;
}

export interface PopulationTotals {
  /** ESTABLISHED pairs complete on both ends. */
  readonly established: number;
  readonly closeWait: number;
  readonly finWait2: number;
  readonly timeWait: number;
  readonly timeWaitCreated: number;
  readonly listeners: number;
  readonly fds: number;
  readonly retries: number;
  readonly lost: number;
  readonly churnOpened: number;
  readonly churnClosed: number;
  readonly churnFailed: number;
}

export interface PopulationStats {
  readonly ready: boolean;
  /** Milliseconds from startPopulation() to ready (undefined until ready). */
  readonly buildMs: number | undefined;
  readonly uptimeMs: number;
  readonly totals: PopulationTotals;
  readonly workers: readonly WorkerStats[];
}

export interface Population {
  /** Worker process ids. */
  readonly pids: number[];
  /** Listening ports (all kinds). With IPv4, different listeners may share a port number on different addresses. */
  readonly ports: number[];
  /** Every listener with its address, kind and owning pid: use these to filter ss / /proc/net output. */
  readonly listeners: readonly ListenerInfo[];
  /** Loopback addresses in use (listeners and client sources). */
  readonly addresses: readonly string[];
  /** Time to build the population, milliseconds. */
  readonly buildMs: number;
  /** The normalised spec (finWait2 filled in, etc.). */
  readonly spec: Readonly<ResolvedSpec>;
  /** Latest counters reported by the workers (refreshed about once a second, or faster while building). */
  stats(): PopulationStats;
  /** Resets every socket (RST, so no TIME_WAIT is left behind), stops and reaps the workers. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// IPC protocol between this module and loadgen-worker (internal, but typed here once).

export interface WorkerRunPlan {
  readonly established: number;
  readonly finWait2: number;
  readonly orphanCloseWait: number;
  readonly timeWait: number;
  readonly churnPerSec: number;
  readonly churnClose: 'rst' | 'fin';
  /** Where this client connects, per listener kind, with how many connections each. */
  readonly targets: Readonly<Record<ListenerKind, readonly Assignment[]>>;
  /** Source addresses to bind client sockets to (round-robin); empty: let connect() pick. */
  readonly sources: readonly string[];
  readonly concurrency: number;
  readonly maintainTimeWait: boolean;
  readonly timeWaitLifetimeMs: number;
}

export type ParentMessage =
  | {
      readonly type: 'listen';
      readonly index: number;
      readonly backlog: number;
      readonly listeners: ReadonlyArray<{ readonly kind: ListenerKind; readonly host: string }>;
    }
  | { readonly type: 'run'; readonly plan: WorkerRunPlan }
  /** The whole population is complete: report at a relaxed pace from now on. */
  | { readonly type: 'ready' }
  | { readonly type: 'stop' };

export type WorkerMessage =
  | {
      readonly type: 'listening';
      readonly listeners: ReadonlyArray<{ readonly kind: ListenerKind; readonly host: string; readonly port: number }>;
    }
  | { readonly type: 'stats'; readonly stats: WorkerStats }
  | { readonly type: 'failed'; readonly error: string; readonly stats: WorkerStats };

// ---------------------------------------------------------------------------
// Planning (pure)

/** Sockets a worker may hold once built; the rest of the 20,000-file limit is headroom for in-flight connects. */
export const FD_BUDGET = 16_000;
/** Hard ceiling for a worker's held sockets when `workers` is given explicitly. */
export const FD_CEILING = 18_000;
/** Default number of client sockets per IPv4 source address (see planPopulation). */
export const SOCKETS_PER_SOURCE = 1500;
/** A TIME_WAIT socket lives TCP_TIMEWAIT_LEN = 60 s on Linux (not tunable). */
export const TIME_WAIT_LIFETIME_MS = 60_000;

export interface ResolvedSpec {
  readonly established: number;
  readonly closeWait: number;
  readonly finWait2: number;
  readonly timeWait: number;
  readonly listenPorts: number;
  readonly churnPerSec: number;
  readonly churnClose: 'rst' | 'fin';
  readonly host: LoopbackHost;
  readonly addresses: number;
  readonly bindSource: boolean;
  readonly maintainTimeWait: boolean;
  readonly workers: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
}

export type WorkerRole = 'client' | 'server';

export interface ListenerPlan {
  readonly kind: ListenerKind;
  readonly host: string;
  /** Connections this listener will receive during the build (never more than its backlog). */
  readonly capacity: number;
}

export interface WorkerPlan {
  readonly role: WorkerRole;
  /** Client workers: connections to make. Server workers: all zero. */
  readonly established: number;
  readonly finWait2: number;
  readonly orphanCloseWait: number;
  readonly timeWait: number;
  readonly churnPerSec: number;
  /** Server workers: listeners to open. Client workers: none. */
  readonly listeners: readonly ListenerPlan[];
  /** Sockets held once built. */
  readonly heldSockets: number;
}

export interface PopulationPlan {
  readonly spec: ResolvedSpec;
  readonly addresses: readonly string[];
  readonly workers: readonly WorkerPlan[];
  /** Most connections routed to one listener during the build. */
  readonly perListener: number;
}

export interface KernelLimits {
  /** Ephemeral ports available per source address (ip_local_port_range). */
  readonly ephemeralPorts: number;
  /** Listen backlog cap (net.core.somaxconn). */
  readonly somaxconn: number;
}

function readSysctl(path: string): number[] | undefined {
  try {
    const values = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    return values.every(Number.isFinite) ? values : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the kernel settings that bound the plan (sensible defaults when /proc is unreadable). */
export function readKernelLimits(): KernelLimits {
  const range = readSysctl('/proc/sys/net/ipv4/ip_local_port_range');
  const somax = readSysctl('/proc/sys/net/core/somaxconn');
  const ephemeralPorts = range && range.length >= 2 ? range[1]! - range[0]! + 1 : 28_232;
  return { ephemeralPorts, somaxconn: somax?.[0] ?? 4096 };
}

function count(name: string, value: number | undefined, fallback = 0): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`loadgen: ${name} must be a non-negative integer, got ${String(value)}`);
  return v;
}

function split(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/** Normalises and validates a spec, and spreads it over workers and listeners. Pure apart from `limits`. */
export function planPopulation(spec: PopulationSpec, limits: KernelLimits = readKernelLimits()): PopulationPlan {
  const host: LoopbackHost = spec.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') throw new RangeError(`loadgen: host must be 127.0.0.1 or ::1, got ${String(host)}`);
  const established = count('established', spec.established);
  const closeWait = count('closeWait', spec.closeWait);
  const finWait2 = count('finWait2', spec.finWait2, closeWait);
  const timeWait = count('timeWait', spec.timeWait);
  const listenPorts = count('listenPorts', spec.listenPorts);
  const churnPerSec = spec.churnPerSec ?? 0;
  if (!Number.isFinite(churnPerSec) || churnPerSec < 0) throw new RangeError(`loadgen: churnPerSec must be >= 0, got ${churnPerSec}`);
  if (finWait2 > closeWait) {
    throw new RangeError(
      `loadgen: finWait2 (${finWait2}) > closeWait (${closeWait}): on loopback the peer of every FIN_WAIT2 socket is a CLOSE_WAIT socket`,
    );
  }
  const ipv4 = host === '127.0.0.1';
  const clientSockets = established + closeWait + timeWait;
  // bind(addr, 0) scans that address's free ports (odd ports of the lower half first):
  // it gets expensive as an address fills up, so by default keep ~1,500 client sockets
  // per source address (measured: 8 addresses for 52k sockets cost 2x the CPU of 32).
  const addressCount = ipv4
    ? count('addresses', spec.addresses, Math.min(254, Math.max(8, Math.ceil(clientSockets / SOCKETS_PER_SOURCE))))
    : 1;
  if (addressCount < 1 || addressCount > 254) throw new RangeError(`loadgen: addresses must be 1..254, got ${addressCount}`);
  const addresses = ipv4 ? Array.from({ length: addressCount }, (_, i) => `127.0.0.${i + 1}`) : ['::1'];
  const bindSource = ipv4 && (spec.bindSource ?? true);
  const orphans = closeWait - finWait2;

  // Port budget: every client socket (including TIME_WAIT ones) takes an ephemeral port
  // of its source address. Keep a quarter of the range for everybody else.
  const portBudget = Math.floor(limits.ephemeralPorts * 0.75);
  // Every listener receives at most this many connections, so its accept queue can never
  // overflow even if its process falls behind (an overflow drops SYNs: seconds of stall).
  const perListener = Math.max(64, Math.min(limits.somaxconn, 4096) - 64);

  const clientHeld = established + finWait2;
  const serverHeld = established + closeWait;
  let clients: number;
  let serversN: number;
  if (spec.workers !== undefined) {
    const workers = count('workers', spec.workers);
    if (workers < 2) throw new RangeError('loadgen: workers must be >= 2 (one client, one server process)');
    // Split in proportion to the sockets each side holds.
    clients = Math.min(workers - 1, Math.max(1, Math.round((workers * clientHeld) / Math.max(1, clientHeld + serverHeld))));
    serversN = workers - clients;
    if (Math.ceil(clientHeld / clients) > FD_CEILING || Math.ceil(serverHeld / serversN) > FD_CEILING) {
      throw new RangeError(`loadgen: ${clientHeld + serverHeld} sockets over ${workers} workers exceeds ${FD_CEILING} per process`);
    }
  } else {
    clients = Math.max(1, Math.ceil(clientHeld / FD_BUDGET));
    serversN = Math.max(1, Math.ceil(serverHeld / FD_BUDGET));
  }

  if (bindSource && clientSockets > portBudget * addressCount) {
    throw new RangeError(
      `loadgen: ${clientSockets} client sockets need more ephemeral ports than ${addressCount} source addresses x ${portBudget}; raise addresses`,
    );
  }
  // Without bound sources (IPv6) the limit is per (source, destination address, destination
  // port): every listener takes at most perListener connections, far below the port range.

  let listenerSeq = 0;
  const nextHost = (): string => addresses[listenerSeq++ % addresses.length]!;
  const plans: WorkerPlan[] = [];
  const minEstablishedListeners = Math.ceil(listenPorts / serversN);
  for (let w = 0; w < serversN; w++) {
    const listeners: ListenerPlan[] = [];
    const add = (kind: ListenerKind, total: number, minimum: number): void => {
      const n = Math.max(minimum, Math.ceil(total / perListener));
      for (let i = 0; i < n; i++) listeners.push({ kind, host: nextHost(), capacity: split(total, n, i) });
    };
    const e = split(established, serversN, w);
    const h = split(closeWait, serversN, w);
    add('established', e, Math.max(1, minEstablishedListeners));
    if (closeWait > 0) add('half-close', h, 1);
    if (timeWait > 0) add('time-wait', split(timeWait, serversN, w), 1);
    if (churnPerSec > 0) add('churn', 0, 1);
    plans.push({
      role: 'server',
      established: 0,
      finWait2: 0,
      orphanCloseWait: 0,
      timeWait: 0,
      churnPerSec: 0,
      listeners,
      heldSockets: e + h,
    });
  }
  for (let c = 0; c < clients; c++) {
    const e = split(established, clients, c);
    const f = split(finWait2, clients, c);
    plans.push({
      role: 'client',
      established: e,
      finWait2: f,
      orphanCloseWait: split(orphans, clients, c),
      timeWait: split(timeWait, clients, c),
      churnPerSec: churnPerSec / clients,
      listeners: [],
      heldSockets: e + f,
    });
  }

  return {
    spec: {
      established,
      closeWait,
      finWait2,
      timeWait,
      listenPorts,
      churnPerSec,
      churnClose: spec.churnClose ?? 'rst',
      host,
      addresses: addressCount,
      bindSource,
      maintainTimeWait: spec.maintainTimeWait ?? true,
      workers: clients + serversN,
      concurrency: count('concurrency', spec.concurrency, 500) || 1,
      timeoutMs: count('timeoutMs', spec.timeoutMs, 120_000),
    },
    addresses,
    workers: plans,
    perListener,
  };
}

/**
 * Spreads each client's connections of one kind over the listeners (one at a time,
 * cycling, so every client talks to every server and no listener exceeds its capacity).
 * `demands[c]` is client c's count; returns per client the endpoints with counts.
 */
export function assignConnections(
  demands: readonly number[],
  listeners: ReadonlyArray<Endpoint & { readonly capacity: number }>,
): Assignment[][] {
  const remaining = listeners.map((l) => l.capacity);
  let cursor = 0;
  return demands.map((demand) => {
    const counts = new Map<number, number>();
    for (let i = 0; i < demand; i++) {
      let tries = 0;
      // Capacities are sized to the demand; if they run out (they should not), overfill evenly.
      while (remaining[cursor % listeners.length]! <= 0 && tries < listeners.length) {
        cursor++;
        tries++;
      }
      const at = cursor % listeners.length;
      remaining[at]!--;
      counts.set(at, (counts.get(at) ?? 0) + 1);
      cursor++;
    }
    return [...counts].map(([at, count]) => ({ host: listeners[at]!.host, port: listeners[at]!.port, count }));
  });
}

// ---------------------------------------------------------------------------
// Worker script location

/**
 * The compiled worker next to this module (dist/bench/ when running compiled code); when
 * this module runs from TypeScript sources (vitest), dist/bench/loadgen-worker.js.
 */
export function resolveWorkerPath(explicit?: string): string {
  if (explicit !== undefined) return explicit;
  const candidates = [new URL('./loadgen-worker.js', import.meta.url), new URL('../dist/bench/loadgen-worker.js', import.meta.url)].map(
    (u) => fileURLToPath(u),
  );
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`loadgen: compiled worker not found (looked in ${candidates.join(', ')}); run \`npx tsc -p tsconfig.json\``);
  }
  return found;
}

// ---------------------------------------------------------------------------
// Orchestration

const EMPTY_STATS = (index: number, pid: number): WorkerStats => ({
  index,
  pid,
  fds: 0,
  built: false,
  exited: false,
  client: { established: 0, finWait2: 0, orphaned: 0, timeWait: 0, timeWaitCreated: 0, connecting: 0, retries: 0, lost: 0 },
  server: { accepted: 0, established: 0, closeWait: 0 },
  churn: { opened: 0, closed: 0, failed: 0, skipped: 0 },
});

function totalsOf(workers: readonly WorkerStats[], listeners: number): PopulationTotals {
  let ce = 0;
  let se = 0;
  const t = {
    closeWait: 0,
    finWait2: 0,
    timeWait: 0,
    timeWaitCreated: 0,
    fds: 0,
    retries: 0,
    lost: 0,
    churnOpened: 0,
    churnClosed: 0,
    churnFailed: 0,
  };
  for (const w of workers) {
    ce += w.client.established;
    se += w.server.established;
    t.closeWait += w.server.closeWait;
    t.finWait2 += w.client.finWait2;
    t.timeWait += w.client.timeWait;
    t.timeWaitCreated += w.client.timeWaitCreated;
    t.fds += w.fds;
    t.retries += w.client.retries;
    t.lost += w.client.lost;
    t.churnOpened += w.churn.opened;
    t.churnClosed += w.churn.closed;
    t.churnFailed += w.churn.failed;
  }
  // A pair counts once both of its ends exist.
  return { established: Math.min(ce, se), listeners, ...t };
}

interface WorkerHandle {
  readonly index: number;
  readonly child: ChildProcess;
  stats: WorkerStats;
  exited: Promise<void>;
  hasExited: boolean;
}

function sendTo(h: WorkerHandle, msg: ParentMessage): void {
  // The callback receives send errors (worker gone) instead of an 'error' event.
  if (h.child.connected) h.child.send(msg, (err) => void err);
}

async function reap(handles: readonly WorkerHandle[], graceMs = 5000): Promise<void> {
  for (const h of handles) sendTo(h, { type: 'stop' });
  const timers = handles.map((h) => {
    if (h.hasExited) return undefined;
    return setTimeout(() => {
      if (!h.hasExited) h.child.kill('SIGKILL');
    }, graceMs);
  });
  await Promise.all(handles.map((h) => h.exited));
  for (const t of timers) if (t) clearTimeout(t);
}

/**
 * Starts worker processes and resolves once every requested socket exists (both ends of
 * every ESTABLISHED and half-closed pair, and every TIME_WAIT). Rejects (after cleaning
 * up) if a worker fails, exits, or the build exceeds spec.timeoutMs.
 */
export async function startPopulation(spec: PopulationSpec): Promise<Population> {
  const started = performance.now();
  const limits = readKernelLimits();
  const plan = planPopulation(spec, limits);
  const workerPath = resolveWorkerPath(spec.workerPath);
  const rs = plan.spec;

  const handles: WorkerHandle[] = plan.workers.map((_, index) => {
    const child = fork(workerPath, [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    child.on('error', () => {}); // reported through 'exit' / the build promise below
    const h: WorkerHandle = {
      index,
      child,
      stats: EMPTY_STATS(index, child.pid ?? -1),
      hasExited: false,
      exited: Promise.resolve(),
    };
    h.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        h.hasExited = true;
        h.stats = { ...h.stats, exited: true };
        resolve();
      });
      // 'error' without 'exit' happens when the spawn itself fails.
      child.once('error', () => {
        if (child.pid === undefined) {
          h.hasExited = true;
          resolve();
        }
      });
    });
    return h;
  });

  let listeners: ListenerInfo[] = [];
  let readyAt: number | undefined;
  let stopped = false;
  let stopPromise: Promise<void> | undefined;

  const snapshot = (): PopulationStats => {
    const workers = handles.map((h) => h.stats);
    return {
      ready: readyAt !== undefined,
      buildMs: readyAt === undefined ? undefined : readyAt - started,
      uptimeMs: performance.now() - started,
      totals: totalsOf(workers, listeners.length),
      workers,
    };
  };

  const isComplete = (): boolean => {
    const t = snapshot().totals;
    const orphans = rs.closeWait - rs.finWait2;
    let orphaned = 0;
    let timeWaitCreated = 0;
    for (const h of handles) {
      if (!h.stats.built) return false;
      orphaned += h.stats.client.orphaned;
      timeWaitCreated += h.stats.client.timeWaitCreated;
    }
    return (
      t.established >= rs.established &&
      t.finWait2 >= rs.finWait2 &&
      t.closeWait >= rs.closeWait &&
      orphaned >= orphans &&
      timeWaitCreated >= rs.timeWait
    );
  };

  try {
    await new Promise<void>((resolve, reject) => {
      let phase: 'listen' | 'run' = 'listen';
      let listening = 0;
      const perWorkerListeners: ListenerInfo[][] = handles.map(() => []);
      const timer = setTimeout(() => {
        const t = snapshot().totals;
        fail(new Error(`loadgen: population not ready after ${rs.timeoutMs} ms (${JSON.stringify(t)})`));
      }, rs.timeoutMs);
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      };
      const succeed = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      };

      const startRun = (): void => {
        phase = 'run';
        listeners = perWorkerListeners.flat();
        // Per kind, the listeners interleaved across server processes, with capacities.
        const slots = (kind: ListenerKind): Array<Endpoint & { capacity: number }> => {
          const perServer = plan.workers.map((wp, w) =>
            wp.listeners
              .map((lp, i) => ({ lp, info: perWorkerListeners[w]![i]! }))
              .filter(({ lp }) => lp.kind === kind)
              .map(({ lp, info }) => ({ host: info.host, port: info.port, capacity: lp.capacity })),
          );
          const out: Array<Endpoint & { capacity: number }> = [];
          const longest = Math.max(0, ...perServer.map((l) => l.length));
          for (let i = 0; i < longest; i++) for (const l of perServer) if (i < l.length) out.push(l[i]!);
          return out;
        };
        const clientIdx = plan.workers.flatMap((wp, w) => (wp.role === 'client' ? [w] : []));
        const demand = (f: (wp: WorkerPlan) => number): number[] => clientIdx.map((w) => f(plan.workers[w]!));
        const est = assignConnections(
          demand((wp) => wp.established),
          slots('established'),
        );
        // FIN_WAIT2 pairs and orphaned ones share the half-close listeners: assign them together.
        const half = assignConnections(
          demand((wp) => wp.finWait2 + wp.orphanCloseWait),
          slots('half-close'),
        );
        const tw = assignConnections(
          demand((wp) => wp.timeWait),
          slots('time-wait'),
        );
        const churnTargets = slots('churn').map((l) => ({ host: l.host, port: l.port, count: 0 }));
        handles.forEach((h, w) => {
          const p = plan.workers[w]!;
          const c = clientIdx.indexOf(w);
          // Rotate the source list per client so sources and destinations mix.
          const sources = rs.bindSource ? plan.addresses.map((_, i) => plan.addresses[(i + w) % plan.addresses.length]!) : [];
          sendTo(h, {
            type: 'run',
            plan: {
              established: p.established,
              finWait2: p.finWait2,
              orphanCloseWait: p.orphanCloseWait,
              timeWait: p.timeWait,
              churnPerSec: p.churnPerSec,
              churnClose: rs.churnClose,
              targets: {
                established: c < 0 ? [] : est[c]!,
                'half-close': c < 0 ? [] : half[c]!,
                'time-wait': c < 0 ? [] : tw[c]!,
                churn: c < 0 ? [] : churnTargets,
              },
              sources,
              concurrency: rs.concurrency,
              maintainTimeWait: rs.maintainTimeWait,
              timeWaitLifetimeMs: TIME_WAIT_LIFETIME_MS,
            },
          });
        });
      };

      handles.forEach((h, w) => {
        h.child.on('message', (raw: unknown) => {
          const msg = raw as WorkerMessage;
          switch (msg.type) {
            case 'listening':
              perWorkerListeners[w] = msg.listeners.map((l) => ({ ...l, pid: h.child.pid ?? -1 }));
              if (++listening === handles.length && phase === 'listen') startRun();
              break;
            case 'stats':
              h.stats = { ...msg.stats, exited: h.hasExited };
              if (!settled) spec.onProgress?.(snapshot());
              if (phase === 'run' && !settled && isComplete()) {
                readyAt = performance.now();
                for (const other of handles) sendTo(other, { type: 'ready' });
                succeed();
              }
              break;
            case 'failed':
              h.stats = { ...msg.stats, exited: h.hasExited };
              fail(new Error(`loadgen: worker ${w} (pid ${h.child.pid}) failed: ${msg.error}`));
              break;
          }
        });
        h.child.once('exit', (code, signal) => {
          if (!stopped)
            fail(new Error(`loadgen: worker ${w} (pid ${h.child.pid}) exited (code ${code}, signal ${signal}) during the build`));
        });
        h.child.once('error', (err) => fail(new Error(`loadgen: worker ${w}: ${err.message}`)));
        sendTo(h, { type: 'listen', index: w, backlog: Math.min(limits.somaxconn, 65535), listeners: plan.workers[w]!.listeners });
      });
    });
  } catch (err) {
    stopped = true;
    await reap(handles);
    throw err;
  }

  const buildMs = (readyAt ?? performance.now()) - started;
  return {
    pids: handles.map((h) => h.child.pid ?? -1),
    ports: [...new Set(listeners.map((l) => l.port))],
    listeners,
    addresses: plan.addresses,
    buildMs,
    spec: rs,
    stats: snapshot,
    stop(): Promise<void> {
      stopped = true;
      stopPromise ??= reap(handles);
      return stopPromise;
    },
  };
}
