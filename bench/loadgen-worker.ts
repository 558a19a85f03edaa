// Worker process of the loopback load generator (bench/loadgen.ts forks it over IPC).
// A server worker opens listeners and holds the accepted sockets; a client worker
// connects to the server workers' listeners (targets chosen by the parent) and holds its
// ends. Both report counters to the parent. Exits when told to stop or when the parent
// goes away ('disconnect'); on the way out every held socket is closed with RST so no
// TIME_WAIT / FIN_WAIT is left behind.

import { readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';

import type { Assignment, Endpoint, ListenerKind, ParentMessage, WorkerMessage, WorkerRunPlan, WorkerStats } from './loadgen.js';

type TaskKind = 'established' | 'fin-wait2' | 'orphan' | 'time-wait';

const MAX_ATTEMPTS = 8;
/** A TIME_WAIT task that has not completed in this long is abandoned (should never happen on loopback). */
const TASK_TIMEOUT_MS = 30_000;
const CHURN_MAX_IN_FLIGHT = 1000;
/** How long a time-wait/churn server socket stays in CLOSE_WAIT before closing (see onAccept). */
const SERVER_CLOSE_DELAY_MS = 25;

let index = -1;
let plan: WorkerRunPlan | undefined;
let built = false;
let stopping = false;
/** The parent said the whole population is complete (slower stats cadence). */
let populationReady = false;
let lastError: string | undefined;
let fds = 0;

const servers: net.Server[] = [];
const clientSockets = new Set<net.Socket>();
const serverSockets = new Set<net.Socket>();

const client = { established: 0, finWait2: 0, orphaned: 0, timeWaitCreated: 0, connecting: 0, retries: 0, lost: 0 };
const server = { accepted: 0, established: 0, closeWait: 0 };
const churn = { opened: 0, closed: 0, failed: 0, skipped: 0 };
/** Creation times of TIME_WAIT sockets still expected to exist (oldest first). */
const timeWaitBorn: number[] = [];
let timeWaitHead = 0;

const noop = (): void => {};
const lastSocketError = new WeakMap<net.Socket, string>();

function send(msg: WorkerMessage): void {
  // With a callback, a send on a closing channel reports to it instead of throwing 'error'.
  if (process.connected) process.send?.(msg, undefined, undefined, noop);
}

function sampleFds(): void {
  try {
    fds = readdirSync('/proc/self/fd').length - 1; // minus the directory handle itself
  } catch {
    fds = -1;
  }
}

function liveTimeWait(): number {
  const cutoff = Date.now() - (plan?.timeWaitLifetimeMs ?? 60_000);
  while (timeWaitHead < timeWaitBorn.length && timeWaitBorn[timeWaitHead]! <= cutoff) timeWaitHead++;
  if (timeWaitHead > 4096 && timeWaitHead * 2 > timeWaitBorn.length) {
    timeWaitBorn.splice(0, timeWaitHead);
    timeWaitHead = 0;
  }
  return timeWaitBorn.length - timeWaitHead;
}

function stats(): WorkerStats {
  return {
    index,
    pid: process.pid,
    fds,
    built,
    exited: false,
    client: { ...client, timeWait: liveTimeWait() },
    server: { ...server },
    churn: { ...churn },
    ...(lastError === undefined ? {} : { lastError }),
  };
}

let statsTimer: NodeJS.Timeout | undefined;
function reportSoon(): void {
  if (statsTimer !== undefined || stopping) return;
  statsTimer = setTimeout(
    () => {
      statsTimer = undefined;
      send({ type: 'stats', stats: stats() });
    },
    populationReady ? 1000 : 50,
  );
}

function reportNow(): void {
  if (statsTimer !== undefined) {
    clearTimeout(statsTimer);
    statsTimer = undefined;
  }
  send({ type: 'stats', stats: stats() });
}

function fail(error: string): void {
  if (stopping) return;
  lastError = error;
  send({ type: 'failed', error, stats: stats() });
}

// ---------------------------------------------------------------------------
// Server side

function onAccept(kind: ListenerKind, s: net.Socket): void {
  server.accepted++;
  serverSockets.add(s);
  s.on('error', noop);
  switch (kind) {
    case 'established':
      server.established++;
      s.once('close', () => {
        server.established--;
        serverSockets.delete(s);
      });
      break;
    case 'half-close': {
      // allowHalfOpen on this server: on the peer's FIN we keep the socket and never
      // end it, so the kernel leaves it in CLOSE_WAIT for as long as we hold it.
      let gotEnd = false;
      s.once('end', () => {
        gotEnd = true;
        server.closeWait++;
        reportSoon();
      });
      s.once('close', () => {
        if (gotEnd) server.closeWait--;
        serverSockets.delete(s);
      });
      s.resume();
      break;
    }
    case 'time-wait':
    case 'churn':
      // On the client's FIN we end our side too (LAST_ACK, then closed), which leaves the
      // client in TIME_WAIT. Not at once: on a busy 2-core box a loopback segment can be
      // delayed (ksoftirqd) behind the client's FIN; if it reaches us after our socket is
      // gone, the listener answers with RST and the RST kills the client's TIME_WAIT
      // (measured: 1-2% of them). Lingering in CLOSE_WAIT briefly absorbs such stragglers.
      s.once('end', () => {
        setTimeout(() => {
          if (!s.destroyed) s.end();
        }, SERVER_CLOSE_DELAY_MS);
      });
      s.once('close', () => serverSockets.delete(s));
      s.resume();
      break;
  }
  reportSoon();
}

function listen(kind: ListenerKind, host: string, backlog: number): Promise<{ kind: ListenerKind; host: string; port: number }> {
  return new Promise((resolve, reject) => {
    // Held ESTABLISHED sockets never read (pauseOnConnect): nothing is sent, and not
    // watching them keeps the event loop (and accept rate) fast.
    const srv = net.createServer({ allowHalfOpen: kind !== 'established', pauseOnConnect: kind === 'established' }, (s) =>
      onAccept(kind, s),
    );
    servers.push(srv);
    srv.once('error', reject);
    srv.listen({ host, port: 0, backlog }, () => {
      srv.removeListener('error', reject);
      srv.on('error', (err) => fail(`listener ${host}: ${err.message}`));
      resolve({ kind, host, port: (srv.address() as AddressInfo).port });
    });
  });
}

// ---------------------------------------------------------------------------
// Client side

interface Task {
  readonly kind: TaskKind;
  readonly target: Endpoint;
  attempts: number;
}

const queue: Task[] = [];
let queueHead = 0;
let inFlight = 0;
let sourceSeq = 0;
let timeWaitPending = 0; // queued or in flight
let timeWaitTargetSeq = 0;

/** Expands assignments into one target per connection, interleaved across endpoints. */
function expand(assignments: readonly Assignment[], n: number): Endpoint[] {
  const left = assignments.map((a) => a.count);
  const out: Endpoint[] = [];
  while (out.length < n) {
    let progressed = false;
    for (let i = 0; i < assignments.length && out.length < n; i++) {
      if (left[i]! > 0) {
        left[i]!--;
        out.push(assignments[i]!);
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return out;
}

function nextSource(): string | undefined {
  const sources = plan!.sources;
  return sources.length === 0 ? undefined : sources[sourceSeq++ % sources.length];
}

function openSocket(target: Endpoint, read: boolean, onConnect: (s: net.Socket) => void, onError: (err: Error) => void): void {
  const localAddress = nextSource();
  const s = net.connect({
    host: target.host,
    port: target.port,
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  // A paused socket does not start reading when it connects (one epoll registration less).
  if (!read) s.pause();
  let settled = false;
  s.once('connect', () => {
    if (settled) return;
    settled = true;
    onConnect(s);
  });
  s.on('error', (err) => {
    if (settled) return;
    settled = true;
    s.destroy();
    onError(err);
  });
}

function taskDone(): void {
  inFlight--;
  client.connecting = inFlight;
  pump();
  checkBuilt();
  reportSoon();
}

function taskFailed(task: Task, err: Error): void {
  inFlight--;
  client.connecting = inFlight;
  task.attempts++;
  client.retries++;
  lastError = `${task.kind}: ${err.message}`;
  if (task.attempts >= MAX_ATTEMPTS) {
    fail(`${task.kind} connection failed ${task.attempts} times: ${err.message}`);
    return;
  }
  setTimeout(() => {
    queue.push(task);
    pump();
  }, 20 * task.attempts);
}

function runTask(task: Task): void {
  const target = task.target;
  inFlight++;
  client.connecting = inFlight;
  openSocket(
    target,
    task.kind !== 'established',
    (s) => {
      s.on('error', (err) => lastSocketError.set(s, err.message));
      switch (task.kind) {
        case 'established':
          client.established++;
          clientSockets.add(s);
          s.once('close', () => {
            client.established--;
            clientSockets.delete(s);
            if (!stopping) client.lost++;
          });
          taskDone();
          break;
        case 'fin-wait2': {
          // Send our FIN but keep the socket: FIN_WAIT2 here, CLOSE_WAIT at the server,
          // and no tcp_fin_timeout because the socket is not orphaned.
          let finished = false;
          clientSockets.add(s);
          s.end(() => {
            finished = true;
            client.finWait2++;
            taskDone();
          });
          s.once('close', () => {
            clientSockets.delete(s);
            if (!finished) return taskFailed(task, new Error('closed before FIN was sent'));
            client.finWait2--;
            if (!stopping) client.lost++;
          });
          break;
        }
        case 'orphan': {
          // Send FIN, then close the socket: the server keeps a CLOSE_WAIT forever (a
          // "leak"), our orphaned FIN_WAIT2 disappears after tcp_fin_timeout.
          let finished = false;
          s.end(() => {
            finished = true;
            s.destroy();
            client.orphaned++;
            taskDone();
          });
          s.once('close', () => {
            if (!finished) taskFailed(task, new Error('closed before FIN was sent'));
          });
          break;
        }
        case 'time-wait': {
          // Client closes first: FIN_WAIT1 -> FIN_WAIT2 -> (server FIN) -> TIME_WAIT.
          const timer = setTimeout(() => s.destroy(new Error('time-wait close timed out')), TASK_TIMEOUT_MS);
          s.once('close', (hadError) => {
            clearTimeout(timer);
            if (hadError) return taskFailed(task, new Error(lastSocketError.get(s) ?? 'time-wait connection failed'));
            timeWaitBorn.push(Date.now());
            client.timeWaitCreated++;
            timeWaitPending--;
            taskDone();
          });
          s.resume();
          s.end();
          break;
        }
      }
    },
    (err) => taskFailed(task, err),
  );
}

function pump(): void {
  if (stopping || plan === undefined) return;
  while (inFlight < plan.concurrency && queueHead < queue.length) {
    runTask(queue[queueHead++]!);
  }
  if (queueHead === queue.length && queueHead > 0) {
    queue.length = 0;
    queueHead = 0;
  }
}

function enqueue(kind: TaskKind, targets: readonly Endpoint[]): void {
  for (const target of targets) queue.push({ kind, target, attempts: 0 });
  if (kind === 'time-wait') timeWaitPending += targets.length;
}

function checkBuilt(): void {
  if (built || plan === undefined) return;
  if (inFlight > 0 || queueHead < queue.length) return;
  if (
    client.established >= plan.established &&
    client.finWait2 >= plan.finWait2 &&
    client.orphaned >= plan.orphanCloseWait &&
    client.timeWaitCreated >= plan.timeWait
  ) {
    built = true;
    sampleFds();
    reportNow();
    startSteadyState();
  }
}

// ---------------------------------------------------------------------------
// Steady state: heartbeat, TIME_WAIT upkeep, churn

function startSteadyState(): void {
  const p = plan!;
  setInterval(() => {
    sampleFds();
    reportNow();
  }, 1000).unref();

  if (p.maintainTimeWait && p.timeWait > 0) {
    setInterval(() => {
      const deficit = p.timeWait - liveTimeWait() - timeWaitPending;
      const tw = p.targets['time-wait'];
      if (deficit > 0 && tw.length > 0) {
        enqueue(
          'time-wait',
          Array.from({ length: deficit }, () => tw[timeWaitTargetSeq++ % tw.length]!),
        );
        pump();
      }
    }, 250).unref();
  }

  if (p.churnPerSec > 0 && p.targets.churn.length > 0) {
    let credit = 0;
    let last = performance.now();
    let churnInFlight = 0;
    let seq = 0;
    setInterval(() => {
      const now = performance.now();
      credit += (p.churnPerSec * (now - last)) / 1000;
      last = now;
      while (credit >= 1) {
        credit--;
        if (churnInFlight >= CHURN_MAX_IN_FLIGHT) {
          churn.skipped++;
          continue;
        }
        churnInFlight++;
        churn.opened++;
        const target = p.targets.churn[seq++ % p.targets.churn.length]!;
        openSocket(
          target,
          true,
          (s) => {
            s.on('error', noop);
            s.once('close', () => {
              churnInFlight--;
              churn.closed++;
            });
            if (p.churnClose === 'rst') {
              s.resetAndDestroy();
            } else {
              s.resume();
              s.end();
            }
          },
          () => {
            churnInFlight--;
            churn.failed++;
          },
        );
      }
    }, 100).unref();
  }
}

// ---------------------------------------------------------------------------
// Shutdown

function resetSocket(s: net.Socket): void {
  if (s.destroyed) return;
  s.on('error', noop);
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

function shutdown(code: number): void {
  if (stopping) return;
  stopping = true;
  // RST both ends (SO_LINGER 0): the sockets vanish without FIN, so nothing lingers in
  // TIME_WAIT / FIN_WAIT after the run.
  for (const s of clientSockets) resetSocket(s);
  for (const s of serverSockets) resetSocket(s);
  for (const srv of servers) srv.close();
  process.exit(code);
}

// ---------------------------------------------------------------------------
// Entry

if (typeof process.send !== 'function') {
  process.stderr.write('loadgen-worker: must be started by bench/loadgen.js (child_process.fork with IPC)\n');
  process.exit(2);
}

process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

process.on('message', (raw: unknown) => {
  const msg = raw as ParentMessage;
  switch (msg.type) {
    case 'listen':
      index = msg.index;
      Promise.all(msg.listeners.map((l) => listen(l.kind, l.host, msg.backlog))).then(
        (listeners) => send({ type: 'listening', listeners }),
        (err: unknown) => fail(`listen: ${err instanceof Error ? err.message : String(err)}`),
      );
      break;
    case 'run':
      plan = msg.plan;
      {
        const t = plan.targets;
        const half = expand(t['half-close'], plan.finWait2 + plan.orphanCloseWait);
        const lists: Array<[TaskKind, Endpoint[]]> = [
          ['established', expand(t.established, plan.established)],
          ['fin-wait2', half.slice(0, plan.finWait2)],
          ['orphan', half.slice(plan.finWait2)],
          ['time-wait', expand(t['time-wait'], plan.timeWait)],
        ];
        for (const [kind, targets] of lists) enqueue(kind, targets);
        const wanted = plan.established + plan.finWait2 + plan.orphanCloseWait + plan.timeWait;
        if (queue.length !== wanted) fail(`planned ${wanted} connections but got targets for ${queue.length}`);
      }
      pump();
      checkBuilt();
      reportSoon();
      break;
    case 'ready':
      populationReady = true;
      break;
    case 'stop':
      shutdown(0);
      break;
  }
});
