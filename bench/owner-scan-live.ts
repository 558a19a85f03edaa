// Steady owner scans as the live dashboard runs them, over the host's own sockets (run it inside
// the namespace of a population: `ip netns exec s100k node dist/bench/owner-scan-live.js`).
//
//   node dist/bench/owner-scan-live.js [refreshes=12] [intervalMs=1500] [libDir=dist] [detail]
//
// With `detail`, an OwnerScanner runs in this thread instead and each scan's passes are printed
// (pass, fd directories listed, links read by step, unknown inodes, ms).
//
//   node --expose-gc dist/bench/owner-scan-live.js cold [rounds=5] [libDir…]
//
// `cold`: what `--once` pays for owners first, a cold full scan (OwnerScanner.scan(null), a new
// scanner each time) of every /proc/<pid>/fd, in this thread, for each libDir in turn (alternating
// builds round by round), beside the floor for Node: a bare loop of readdirSync + readlinkSync
// over the same fds, and of readlinkSync alone over the fd numbers listed. Process CPU (user +
// sys) per round, then medians.
//
// libDir: the dist/ of a built checkout whose src/proc is timed (another checkout's, to compare
// two builds in one sitting with this same script). Per refresh: the tables are read and parsed
// without owners (not timed), then the owner source of the dashboard (the owner worker thread) is
// asked for the snapshot's inodes and every socket is looked up as the join does. Timed: process
// CPU (all threads) from the request to the last lookup, the main thread's CPU (/proc/self/task/
// <pid>/stat, 10 ms ticks: summed over the refreshes) and the owner worker thread's CPU (the
// thread that appeared when it started). The first refresh (the worker's start and cold scan)
// is left out of the figures.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface Lookup {
  lookup(inode: number): { pid: number } | null;
  sharedBy(inode: number): number;
}
interface Source {
  scan(wanted: ReadonlySet<number>): Promise<Lookup>;
  prime?(): Promise<void>;
  close(): Promise<void>;
}

const refreshes = Number(process.argv[2] ?? 12);
const intervalMs = Number(process.argv[3] ?? 1500);
const libDir = path.resolve(process.argv[4] ?? path.join(import.meta.dirname, '..'));
const lib = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(libDir, rel)).href)) as T;

const ticksPerSec = 100;
function threadTicks(tid: number): number {
  try {
    const text = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
const tasks = (): Set<number> => new Set(fs.readdirSync('/proc/self/task').map(Number));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] ?? NaN;

/** The Node floor: readdirSync of every /proc/<pid>/fd and readlinkSync of each entry; CPU ms of both and of the readlinks alone. */
function bareScan(): { all: number; links: number; sockets: number } {
  const c0 = cpuMs();
  const lists: [string, string[]][] = [];
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    try {
      lists.push([`/proc/${name}/fd/`, fs.readdirSync(`/proc/${name}/fd`)]);
    } catch {
      // exited, or not ours
    }
  }
  const c1 = cpuMs();
  let sockets = 0;
  for (const [prefix, fds] of lists) {
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(prefix + fd).startsWith('socket:[')) sockets++;
      } catch {
        // closed meanwhile
      }
    }
  }
  const c2 = cpuMs();
  return { all: c2 - c0, links: c2 - c1, sockets };
}

async function cold(rounds: number, dirs: readonly string[]): Promise<void> {
  type Scanner = { scan(wanted: null): { stats: { linksRead: number }; detail: { dirsListed: number } } };
  const subjects: { dir: string; create: () => Scanner; cpu: number[] }[] = [];
  for (const dir of dirs) {
    const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(dir, rel)).href)) as T;
    const procFsMod = await load<{ createProcFs(root: string): object }>('src/proc/proc-fs.js');
    const ownersMod = await load<{ createOwnerScanner(procFs: object): Scanner }>('src/proc/read-owners.js');
    subjects.push({ dir, create: () => ownersMod.createOwnerScanner(procFsMod.createProcFs('/proc')), cpu: [] });
  }
  const bareAll: number[] = [];
  const bareLinks: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const subject of subjects) {
      // With --expose-gc, the last scanner's garbage is collected here, not during this one.
      (globalThis as { gc?: () => void }).gc?.();
      const c0 = cpuMs();
      const result = subject.create().scan(null);
      subject.cpu.push(cpuMs() - c0);
      console.log(
        `round ${r} ${subject.dir}: ${(cpuMs() - c0).toFixed(0)} ms, ${result.stats.linksRead} links read, ${result.detail.dirsListed} directories listed`,
      );
    }
    const bare = bareScan();
    bareAll.push(bare.all);
    bareLinks.push(bare.links);
    console.log(
      `round ${r} bare readdirSync + readlinkSync: ${bare.all.toFixed(0)} ms (readlinks ${bare.links.toFixed(0)} ms), ${bare.sockets} sockets`,
    );
  }
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  console.log(`cold scan, CPU median of ${rounds} rounds (load ${load}):`);
  for (const subject of subjects) console.log(`  ${subject.dir}: ${median(subject.cpu).toFixed(0)} ms`);
  console.log(`  bare loop: ${median(bareAll).toFixed(0)} ms, of which readlinkSync ${median(bareLinks).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'cold') {
    const dirs = process.argv.slice(4);
    await cold(Number(process.argv[3] ?? 5), dirs.length > 0 ? dirs.map((d) => path.resolve(d)) : [path.join(import.meta.dirname, '..')]);
    return;
  }
  const collect = await lib<{
    collectSnapshot(deps: object): { sockets: readonly { inode: number }[] };
    wantedInodes(entries: readonly { inode: number }[]): ReadonlySet<number>;
  }>('src/proc/collect-snapshot.js');
  const procFsMod = await lib<{ createProcFs(root: string): object }>('src/proc/proc-fs.js');
  const ownersMod = await lib<{ createOwnerScanner(procFs: object): unknown }>('src/proc/read-owners.js');
  const sourceMod = await lib<{ createWorkerOwnerSource(root: string, fallback: () => unknown): Source }>('src/proc/owner-source.js');
  const procFs = procFsMod.createProcFs('/proc');
  const deps = {
    procFs,
    owners: null,
    userName: (uid: number) => String(uid),
    hostname: () => 'bench',
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
  if (process.argv[5] === 'detail') {
    const scanner = ownersMod.createOwnerScanner(procFs) as {
      scan(wanted: ReadonlySet<number> | null): { stats: { durationMs: number }; detail: object };
    };
    scanner.scan(null);
    for (let r = 0; r < refreshes; r++) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const snap = collect.collectSnapshot(deps);
      const c0 = cpuMs();
      const result = scanner.scan(collect.wantedInodes(snap.sockets));
      console.log(`scan ${r}: cpu ${(cpuMs() - c0).toFixed(1)} ms`, JSON.stringify(result.detail));
    }
    return;
  }
  const before = tasks();
  const source = sourceMod.createWorkerOwnerSource('/proc', () => ownersMod.createOwnerScanner(procFs));
  let workerTid = -1;
  const totals: number[] = [];
  const walls: number[] = [];
  let main0 = 0;
  let worker0 = 0;
  let sockets = 0;
  let held = 0;
  const first = collect.collectSnapshot(deps);
  if (source.prime !== undefined) {
    const primed = source.prime();
    workerTid = [...tasks()].find((t) => !before.has(t)) ?? -1;
    await primed;
  }
  void first;
  for (let r = 0; r <= refreshes; r++) {
    const snap = collect.collectSnapshot(deps);
    if (r === 1) {
      main0 = threadTicks(process.pid);
      worker0 = threadTicks(workerTid);
    }
    const c0 = cpuMs();
    const t0 = performance.now();
    const owners = await source.scan(collect.wantedInodes(snap.sockets));
    held = 0;
    for (const s of snap.sockets) {
      if (owners.lookup(s.inode) !== null) held++;
      owners.sharedBy(s.inode);
    }
    const c1 = cpuMs();
    if (r > 0) {
      totals.push(c1 - c0);
      walls.push(performance.now() - t0);
    }
    sockets = snap.sockets.length;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const mainMs = ((threadTicks(process.pid) - main0) * 1000) / ticksPerSec / refreshes;
  const workerMs = ((threadTicks(workerTid) - worker0) * 1000) / ticksPerSec / refreshes;
  await source.close();
  const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  console.log(
    `${libDir}: ${sockets} sockets, ${held} with an owner; ${refreshes} refreshes every ${intervalMs} ms, load ${load}\n` +
      `  owner work per refresh (request to last lookup): process CPU median ${median(totals).toFixed(1)} ms ` +
      `(min ${Math.min(...totals).toFixed(1)}, max ${Math.max(...totals).toFixed(1)}), wall median ${median(walls).toFixed(1)} ms\n` +
      `  owner worker thread ${workerMs.toFixed(1)} ms/refresh; main thread (incl. the untimed read+parse) ${mainMs.toFixed(1)} ms/refresh`,
  );
}

await main();
