// `npm run bench`, part 4: bytes moved over the --ssh link per refresh, at 1k, 10k and 100k
// remote TCP sockets, next to the raw size of the remote /proc/net text those refreshes read.
//
//   npm run build && node dist/bench/ssh-bench.js
//   env: BENCH_SSH_SIZES=1000,10000,100000  BENCH_SSH_REPS=5 (refreshes measured per case)
//        BENCH_SSH_LIVE=10000 (also this machine's /proc with a loopback population of that many
//        TCP sockets built by bench/loadgen.ts, owners included; 0 skips; default 10000)
//
// The "remote" is a local `sh` in place of `ssh host sh` (the protocol is the same; ssh would add
// its own framing and encryption on top), reading a synthetic /proc tree (bench/proc-tree.ts)
// through SshOptions.remoteProcRoot. One refresh is what the dashboard's collector reads: every
// /proc/net table plus snmp and netstat (collectSnapshotAsync), owners aside (they are listed
// from the real /proc/<pid>/fd, which a synthetic tree has not). Before each refresh a tenth of
// the TCP lines get a new timer value ("busy": as under load, net/tcp changes at every refresh);
// the "idle" case changes nothing. "summary" is what `--summary` reads: the TCP tables counted
// there by awk (a line per state), the other tables gzipped. The live case reads this machine's real /proc (the kernel's
// own text, with its less repetitive inodes and ports) with a loopback population, and lists
// owners over the same link (the remote owner source: one find per refresh). Modes: plain text (no gzip, or --ssh-option-less servers
// without it), gzip -1 on the remote side, and gzip plus "skip unchanged" (md5sum there).
//
// Bytes: written to the sh's stdin (requests) and read from its stdout (answers, framing
// included). CPU: the remote side is the sh's own time plus its waited-for children (cat, gzip,
// md5sum: cutime + cstime of /proc/<pid>/stat, 10 ms resolution); the local side is this
// process's CPU over the refresh (unpacking in libuv's pool, parsing, digests).

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';

import { NET_TABLES, collectSnapshotAsync } from '../src/proc/collect-snapshot.js';
import { collectStateCountsAsync } from '../src/proc/collect-counts.js';
import { openSshProcFs, type SshProcFs } from '../src/proc/ssh/proc-fs.js';
import { createRemoteOwnerSource } from '../src/proc/remote-owners.js';
import {
  CLOCK_TICKS_PER_SEC,
  buildPopulation,
  describeMachine,
  envInt,
  fmt,
  formatMarkdownTable,
  formatTable,
  installCleanupHandlers,
  loadAverage,
  machineInfo,
  median,
  onCleanup,
  parseSizes,
  populationSpecFor,
  readStatFields,
  round,
  runCleanups,
  sizeLabel,
  writeResults,
} from './bench-lib.js';
import { writeSyntheticProcTree } from './proc-tree.js';

/** plain / gzip / gzip+skip: what the dashboard reads; summary: `--summary` (awk counts there, gzip+skip). */
type Mode = 'plain' | 'gzip' | 'gzip+skip' | 'summary';
type Activity = 'busy' | 'idle';

interface LinkCase {
  readonly population: string;
  readonly sockets: number;
  readonly mode: Mode;
  readonly activity: Activity;
  readonly owners: boolean;
  /** Raw size of the /proc/net files one refresh reads, bytes. */
  readonly rawBytes: number;
  /** Medians per refresh. */
  readonly receivedBytes: number;
  readonly sentBytes: number;
  readonly ratio: number;
  readonly remoteCpuMs: number;
  readonly localCpuMs: number;
  readonly wallMs: number;
}

/** Files one refresh reads (collectSnapshotAsync): the tables, then snmp and netstat. */
const REFRESH_FILES = [...NET_TABLES.map((p) => `net/${p}`), 'net/snmp', 'net/netstat'];

function rawBytesOf(procRoot: string): number {
  let total = 0;
  for (const rel of REFRESH_FILES) {
    try {
      total += fs.readFileSync(path.join(procRoot, rel)).length;
    } catch {
      // missing (IPv6 off, a synthetic tree without raw): read as missing over ssh too
    }
  }
  return total;
}

/** CPU of a process and its waited-for children (fields 14–17), ms. */
function treeCpuMs(pid: number): number {
  const f = readStatFields(`/proc/${pid}/stat`);
  if (f === null) return Number.NaN;
  return ((Number(f[14]) + Number(f[15]) + Number(f[16]) + Number(f[17])) * 1000) / CLOCK_TICKS_PER_SEC;
}

/** Rounds of touchTcp so far: every call writes values never written before. */
let touches = 0;

/** A new timer value on every tenth TCP line (same length: the kernel pads its columns). */
function touchTcp(procRoot: string): void {
  const round = ++touches;
  const file = path.join(procRoot, 'net', 'tcp');
  const lines = fs.readFileSync(file, 'latin1').split('\n');
  const when = (round * 7919).toString(16).toUpperCase().padStart(8, '0').slice(-8);
  for (let i = 1 + (round % 10); i < lines.length; i += 10) lines[i] = lines[i]!.replace(/ 0[0-3]:[0-9A-F]{8} /, ` 02:${when} `);
  fs.writeFileSync(file, lines.join('\n'), 'latin1');
}

async function measureCase(
  population: string,
  sockets: number,
  procRoot: string,
  mode: Mode,
  activity: Activity,
  reps: number,
  withOwners: boolean,
): Promise<LinkCase> {
  let shPid = -1;
  const fsRemote: SshProcFs = await openSshProcFs('bench@localhost', {
    spawnShell: () => {
      const child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
      shPid = child.pid ?? -1;
      return child;
    },
    remoteProcRoot: procRoot,
    compress: mode !== 'plain',
    skipUnchanged: mode === 'gzip+skip' || mode === 'summary',
  });
  const unregister = onCleanup(() => fsRemote.close());
  const owners = withOwners ? createRemoteOwnerSource(fsRemote) : null;
  const deps = {
    procFs: fsRemote,
    owners,
    userName: (uid: number) => String(uid),
    hostname: () => fsRemote.hostname,
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
  };
  const touchable = activity === 'busy' && procRoot !== '/proc';
  try {
    if (mode !== 'plain' && !fsRemote.link.compressed) throw new Error('no gzip on this machine: cannot measure compression');
    if (mode === 'summary' && fsRemote.stateTally === null) throw new Error('no awk on this machine: cannot measure --summary');
    const refresh = async (): Promise<unknown> =>
      mode === 'summary' ? collectStateCountsAsync(fsRemote, NET_TABLES, fsRemote.stateTally) : collectSnapshotAsync(deps);
    await refresh(); // the first refresh (a copy to compare with, warm caches)
    const received: number[] = [];
    const sent: number[] = [];
    const remoteCpu: number[] = [];
    const localCpu: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < reps; r++) {
      if (touchable) touchTcp(procRoot);
      const b0 = fsRemote.byteCounts();
      const rc0 = treeCpuMs(shPid);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await refresh();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      localCpu.push((c.user + c.system) / 1000);
      remoteCpu.push(treeCpuMs(shPid) - rc0);
      const b = fsRemote.byteCounts();
      received.push(b.receivedBytes - b0.receivedBytes);
      sent.push(b.sentBytes - b0.sentBytes);
    }
    const rawBytes = rawBytesOf(procRoot);
    const receivedBytes = median(received);
    return {
      population,
      sockets,
      mode,
      activity,
      owners: withOwners,
      rawBytes,
      receivedBytes,
      sentBytes: median(sent),
      ratio: round(receivedBytes / Math.max(1, rawBytes), 6),
      remoteCpuMs: median(remoteCpu),
      localCpuMs: round(median(localCpu), 1),
      wallMs: round(median(wall), 1),
    };
  } finally {
    await owners?.close();
    await fsRemote.close();
    unregister();
  }
}

/** gzip -1 of one net/tcp on this machine (the remote's cost) and its gunzip here (the local cost). */
function measureCodec(procRoot: string): { rawBytes: number; packedBytes: number; gzipCpuMs: number; gunzipMs: number } {
  const file = path.join(procRoot, 'net', 'tcp');
  const raw = fs.readFileSync(file);
  const c0 = Number(readStatFields('/proc/self/stat')?.[16] ?? 0) + Number(readStatFields('/proc/self/stat')?.[17] ?? 0);
  const gz = spawnSync('gzip', ['-1', '-c'], { input: raw, maxBuffer: 512 * 1024 * 1024 });
  const c1 = Number(readStatFields('/proc/self/stat')?.[16] ?? 0) + Number(readStatFields('/proc/self/stat')?.[17] ?? 0);
  const packed = gz.stdout;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    zlib.gunzipSync(packed, { maxOutputLength: 256 * 1024 * 1024 });
    times.push(performance.now() - t0);
  }
  return {
    rawBytes: raw.length,
    packedBytes: packed.length,
    gzipCpuMs: ((c1 - c0) * 1000) / CLOCK_TICKS_PER_SEC,
    gunzipMs: round(median(times), 1),
  };
}

/** What changed between refreshes, and whether owners were listed too. */
const changesOf = (c: LinkCase): string =>
  c.population.startsWith('loopback') ? (c.owners ? 'live + owners' : 'live') : c.activity === 'busy' ? 'tcp: 10% of lines' : 'none';

const kib = (n: number): string => (n >= 10 * 1024 * 1024 ? `${fmt(n / 1024 / 1024)} MiB` : `${fmt(n / 1024)} KiB`);

async function main(): Promise<void> {
  installCleanupHandlers();
  const sizes = parseSizes(process.env['BENCH_SSH_SIZES'], [1000, 10_000, 100_000]);
  const reps = envInt('BENCH_SSH_REPS', 5);
  const liveSockets = process.env['BENCH_SSH_LIVE'] === '0' ? 0 : envInt('BENCH_SSH_LIVE', 10_000);
  const machine = machineInfo();
  const loadBefore = loadAverage();
  const log = (s: string): void => void process.stderr.write(`ssh-bench: ${s}\n`);
  log(describeMachine(machine, loadBefore));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-ssh-bench-'));
  onCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const cases: LinkCase[] = [];
  const codecs: { population: string; rawBytes: number; packedBytes: number; gzipCpuMs: number; gunzipMs: number }[] = [];
  const measurePopulation = async (label: string, sockets: number, root: string): Promise<void> => {
    log(`${label} (${sockets} TCP sockets)…`);
    const live = root === '/proc';
    const activities: Activity[] = live ? ['busy'] : ['busy', 'idle'];
    for (const activity of activities) {
      for (const withOwners of live ? [false, true] : [false]) {
        for (const mode of ['plain', 'gzip', 'gzip+skip', 'summary'] as const) {
          if (activity === 'idle' && mode !== 'gzip+skip') continue;
          if (mode === 'summary' && withOwners) continue;
          cases.push(await measureCase(label, sockets, root, mode, activity, reps, withOwners));
        }
      }
    }
    codecs.push({ population: label, ...measureCodec(root) });
  };
  for (const n of sizes) {
    const tree = writeSyntheticProcTree(tmp, { sockets: n });
    await measurePopulation(`synthetic ${sizeLabel(n)}`, n, tree.root);
    fs.rmSync(tree.root, { recursive: true, force: true });
  }
  if (liveSockets > 0) {
    const built = await buildPopulation(populationSpecFor(liveSockets), log);
    try {
      const tcp = fs.readFileSync('/proc/net/tcp', 'latin1').split('\n').length - 2;
      const tcp6 = fs.readFileSync('/proc/net/tcp6', 'latin1').split('\n').length - 2;
      await measurePopulation(`loopback ${sizeLabel(liveSockets)}`, tcp + tcp6, '/proc');
    } finally {
      await built.stop();
    }
  }
  const loadAfter = loadAverage();

  const headers = [
    'remote /proc',
    'mode',
    'changes',
    'raw /proc/net',
    'received',
    'sent',
    'received/raw',
    'remote CPU ms',
    'local CPU ms',
    'wall ms',
  ];
  const rows = cases.map((c) => [
    `${c.population} (${c.sockets})`,
    c.mode,
    changesOf(c),
    kib(c.rawBytes),
    kib(c.receivedBytes),
    `${fmt(c.sentBytes)} B`,
    `${fmt(c.ratio * 100)}%`,
    c.remoteCpuMs,
    c.localCpuMs,
    c.wallMs,
  ]);
  const codecHeaders = ['net/tcp of', 'raw', 'gzip -1', 'gzip -1 CPU ms (remote)', 'gunzip ms (local)'];
  const codecRows = codecs.map((c) => [c.population, kib(c.rawBytes), kib(c.packedBytes), c.gzipCpuMs, c.gunzipMs]);
  process.stdout.write(
    `\n## --ssh bytes per refresh (medians of ${reps})\n\n${formatTable(headers, rows)}\n\n${formatTable(codecHeaders, codecRows)}\n`,
  );
  process.stdout.write(`\nload ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`);
  process.stdout.write(`\n${formatMarkdownTable(headers, rows)}\n\n${formatMarkdownTable(codecHeaders, codecRows)}\n`);
  const file = writeResults('ssh', 'ssh-latest.json', { machine, loadBefore, loadAfter, reps, cases, codecs });
  log(`results: ${path.relative(process.cwd(), file)}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`ssh-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
