// Composition root: builds every service (proc opener, owner scanner, clocks, output streams)
// with overridable defaults, then runs one of the modes. bin/sockscope calls main(argv).
// Importing this module has no side effects.

import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import type { ParseOutcome } from './cli/options.js';
import { parseQuickArgs } from './cli/quick-args.js';
import type { AppContext, RemoteContext, Services } from './cli/context.js';
import type { CompiledFilter } from './filter/index.js';
import { checkProcRoot, createProcFs, resolveProcRoot } from './proc/proc-fs.js';
import type { CollectDeps } from './proc/collect-snapshot.js';
import { createOwnerScanner } from './proc/read-owners.js';
import { createUserNames } from './proc/read-users.js';
import type { Recorder, Recording } from './model/recording.js';
import type { Protocol } from './model/types.js';
import type { SshProcFs } from './proc/ssh/proc-fs.js';
import type { ServiceTable } from './proc/parse-services.js';
import type { CollectSource } from './proc/collect-source.js';
import { readBoundedText, readServices } from './proc/read-services.js';
import type { DashboardDeps, LiveFeed } from './ui/run-dashboard.js';
// Modules only some modes need (filters, --ssh, --pid, replay, the headless modes, commander for
// command lines other than the common --once ones) are imported where they are used: start-up
// is most of the cost of `--once --summary`.

// What callers of main(argv, overrides) may inject.
export type { OutputStream, Services } from './cli/context.js';

export function defaultServices(): Services {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    platform: process.platform,
    now: () => Date.now(),
    monotonicMs: () => performance.now(),
    hostname: () => os.hostname(),
    readPasswd: () => {
      try {
        return fs.readFileSync('/etc/passwd', 'utf8');
      } catch {
        return null;
      }
    },
    createProcFs,
    signals: process,
    raiseSignal: (signal) => process.kill(process.pid, signal),
    readBoundedText,
  };
}

/** Set only in the single-file bundle (esbuild `define` in bin/build-bundle.mjs): no package.json there. */
declare const SOCKSCOPE_BUNDLE_VERSION: string | undefined;

export function packageVersion(): string {
  if (typeof SOCKSCOPE_BUNDLE_VERSION === 'string') return SOCKSCOPE_BUNDLE_VERSION;
  const require = createRequire(import.meta.url);
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'sockscope' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next layout (source vs dist)
    }
  }
  return '0.0.0';
}

/** Print one line to stderr, prefixed with the program name. */
export function complain(services: Services, message: string): void {
  services.stderr.write(`sockscope: ${message}\n`);
}

export async function main(argv: readonly string[], overrides: Partial<Services> = {}): Promise<number> {
  const services: Services = { ...defaultServices(), ...overrides };
  // Closed when the mode ends, whatever the outcome (the --ssh session).
  const cleanups: (() => Promise<void>)[] = [];
  try {
    return await run(argv, services, cleanups);
  } catch (err) {
    // Last line of defence: one clear line, never a stack trace (SOCKSCOPE_DEBUG=1 shows it).
    const message = err instanceof Error ? err.message : String(err);
    complain(services, `internal error: ${message}`);
    if (services.env['SOCKSCOPE_DEBUG'] && err instanceof Error && err.stack) services.stderr.write(`${err.stack}\n`);
    return 1;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}

async function run(argv: readonly string[], services: Services, cleanups: (() => Promise<void>)[] = []): Promise<number> {
  const quick = parseQuickArgs(argv);
  const parsed: ParseOutcome =
    quick !== null
      ? { kind: 'run', options: quick }
      : (await import('./cli/options.js')).parseCli(argv, packageVersion(), {
          out: (s) => services.stdout.write(s),
          err: (s) => services.stderr.write(s.startsWith('error:') ? `sockscope: ${s.slice(7)}` : s),
        });
  if (parsed.kind === 'exit') return parsed.code;
  const { options } = parsed;

  if (services.platform !== 'linux' && options.ssh === null && options.procRoot === undefined && services.env['PROC_ROOT'] === undefined) {
    complain(services, `needs Linux /proc (this is ${services.platform}); use --proc-root DIR for a recorded tree`);
    return 1;
  }

  // /etc/services, read once on first use: `port http` in filters, names next to ports.
  let serviceTableRead: ServiceTable | null = null;
  const serviceTable = (): ServiceTable => (serviceTableRead ??= readServices(services.readBoundedText));

  let filter: CompiledFilter | null = null;
  let filterProtocols: ReadonlySet<Protocol> | null = null;
  if (options.filter !== null && options.filter.trim() !== '') {
    const { compileFilter, formatFilterError, protocolsOfFilter } = await import('./filter/index.js');
    const compiled = compileFilter(options.filter, { servicePort: (name) => serviceTable().portOf.get(name) });
    if (!compiled.ok) {
      services.stderr.write(`sockscope: bad filter\n${formatFilterError(options.filter, compiled.error)}\n`);
      return 2;
    }
    filter = compiled.filter;
    filterProtocols = protocolsOfFilter(compiled.ast);
  }

  // --ssh: every read goes over one ssh session to the remote host (its hostname and
  // /etc/passwd too); the local /proc is not used. A failure to connect is one line, exit 1.
  let remote: RemoteContext | null = null;
  if (options.ssh !== null) {
    const { openSshProcFs } = await import('./proc/ssh/proc-fs.js');
    const { SshError } = await import('./proc/ssh/errors.js');
    const { createRemoteOwnerSource } = await import('./proc/remote-owners.js');
    const { NET_SYSCTL_PATHS } = await import('./proc/read-sysctl.js');
    let sshFs: SshProcFs;
    try {
      sshFs = await openSshProcFs(options.ssh, {
        sshOptions: options.sshOptions,
        preload: Object.values(NET_SYSCTL_PATHS),
        readPasswd: true,
      });
    } catch (err) {
      if (!(err instanceof SshError)) throw err;
      complain(services, err.message);
      return 1;
    }
    cleanups.push(() => sshFs.close());
    remote = { procFs: sshFs, owners: options.processes ? createRemoteOwnerSource(sshFs) : null };
    services = { ...services, hostname: () => sshFs.hostname, readPasswd: () => sshFs.passwd };
  }

  const hostProcFs = remote?.procFs ?? services.createProcFs(resolveProcRoot(options.procRoot, services.env));
  const rootProblem = remote !== null ? null : checkProcRoot(hostProcFs);
  if (rootProblem !== null) {
    complain(services, rootProblem);
    return 1;
  }

  // --pid: net/ reads go to /proc/PID/net (that process's network namespace); owners are
  // looked for only among processes in the same namespace.
  let procFs = hostProcFs;
  let scopeLabel: string | null = remote !== null ? `via ssh ${remote.procFs.target}` : null;
  let pidFilter: ((pid: number) => boolean) | undefined;
  let targetGone: (() => string | null) | null = null;
  if (options.pid !== null) {
    const { createNetnsPidFilter, openNetnsTarget, readNetnsId } = await import('./proc/netns.js');
    const target = openNetnsTarget(hostProcFs, options.pid);
    if (!target.ok) {
      complain(services, target.message);
      return 1;
    }
    procFs = target.procFs;
    scopeLabel = target.label;
    pidFilter = createNetnsPidFilter(hostProcFs, options.pid) ?? undefined;
    const netProblem = checkProcRoot(procFs);
    if (netProblem !== null) {
      complain(services, netProblem);
      return 1;
    }
    // When the process exits its tables read as empty: the modes ask this before each snapshot.
    const pid = options.pid;
    const netProcFs = procFs;
    const netnsAtStart = target.netnsId;
    targetGone = () =>
      netProcFs.readDir('net') === null || (netnsAtStart !== null && readNetnsId(hostProcFs, pid) !== netnsAtStart)
        ? `process ${pid} is gone: its network namespace cannot be read any more`
        : null;
  }

  const users = createUserNames(services.readPasswd);
  const collectDeps: CollectDeps = {
    procFs,
    // Over ssh the sync scanner cannot work: owners come from ctx.remote.owners (async).
    owners: options.processes && remote === null ? createOwnerScanner(procFs, pidFilter === undefined ? {} : { pidFilter }) : null,
    userName: (uid) => users.nameOf(uid),
    hostname: services.hostname,
    now: services.now,
    monotonicMs: services.monotonicMs,
  };
  const ctx: AppContext = {
    options,
    services,
    procFs,
    collectDeps,
    filterText: options.filter,
    filterProtocols,
    filter,
    scopeLabel,
    remote,
    targetGone,
    serviceTable,
  };

  // A reader that goes away (`| head`) is not an error: stop writing, exit quietly.
  services.stdout.on?.('error', () => undefined);
  if (options.serve !== null) {
    const { runServe } = await import('./cli/serve.js');
    return runServe(ctx, options.serve, packageVersion());
  }
  if (options.allNetns) {
    const { runAllNetns } = await import('./cli/all-netns.js');
    return runAllNetns(ctx);
  }
  if (options.once) {
    const counted = (await import('./cli/run-summary.js')).runCountsOnly(ctx);
    if (counted !== null) return counted;
    const { runOnce } = await import('./cli/run-once.js');
    return runOnce(ctx, (await import('./proc/collect-snapshot.js')).collectSnapshot);
  }
  if (options.json || options.summary) {
    const { runStream } = await import('./cli/run-once.js');
    return runStream(ctx, (await import('./proc/collect-snapshot.js')).collectSnapshot);
  }

  let recording: Recording | null = null;
  if (options.replay !== null) {
    try {
      const { openRecording } = await import('./cli/recording-file.js');
      recording = openRecording(options.replay);
    } catch (err) {
      complain(services, err instanceof Error ? err.message : String(err));
      return 1;
    }
    if (recording.frames === 0) {
      complain(services, `${options.replay}: the recording has no frames`);
      return 1;
    }
  }
  if (services.stdout.isTTY !== true) {
    complain(services, 'the dashboard needs a terminal; for scripts use --once, --once --json or --once --summary');
    return 2;
  }
  // --record first: a file that cannot be created is one line and exit 1 before anything else
  // (screen, owner worker) is started that would have to be torn down.
  let recorder: Recorder | null = null;
  if (options.record !== null) {
    const { createRecorder } = await import('./cli/recording-file.js');
    try {
      recorder = createRecorder(options.record, services.hostname(), services.now(), { force: options.force });
    } catch (err) {
      complain(services, err instanceof Error ? err.message : String(err));
      return 1;
    }
  }
  const { runDashboard } = await import('./ui/run-dashboard.js');
  return runDashboard(await buildDashboardDeps(ctx, recording, recorder));
}

/**
 * What the dashboard is given: the streams, signals and clock; live collection (or the
 * recording to play); the readers of the slowly changing environment; ss for one connection's
 * details; the stats file. The readers are imported here, when the dashboard runs.
 */
async function buildDashboardDeps(ctx: AppContext, recording: Recording | null, recorder: Recorder | null): Promise<DashboardDeps> {
  const { services, options } = ctx;
  const { createInlineOwnerSource, createWorkerOwnerSource, ownerWorkerPath } = await import('./proc/owner-source.js');
  const { createWorkerCollectSource } = await import('./proc/collect-source.js');
  const { createTableReader } = await import('./proc/table-reader.js');
  const { readNetSysctls } = await import('./proc/read-sysctl.js');
  const { readListenBacklogs } = await import('./proc/read-backlogs.js');
  const { readTcpInfo } = await import('./proc/read-tcp-info.js');
  const { collectUnixPeers, createConnRatesSource, readChildrenCpuMs } = await import('./proc/collect-conn-rates.js');
  const { totalRates } = await import('./model/conn-rates.js');
  const { ssContext } = await import('./cli/run-once.js');
  const { createLiveCollector } = await import('./proc/collect-snapshot.js');
  // ss reports our own namespace, so it is not asked for recorded trees, --pid or --ssh.
  const useSs = ctx.procFs.root === '/proc' && ctx.scopeLabel === null;
  const openLive = (): LiveFeed => {
    // Collection in this thread: owners in a worker thread; with --pid the scanner is restricted
    // to one namespace's processes, which only the scanner built in run() knows: run that one in
    // this thread. --ssh (ctx.remote): owners are listed over the ssh session run() opened (main
    // closes it); no local worker.
    const inThisThread = (): CollectSource => {
      const owners = !options.processes
        ? null
        : ctx.remote != null
          ? ctx.remote.owners
          : ctx.scopeLabel !== null && ctx.collectDeps.owners !== null
            ? createInlineOwnerSource(ctx.collectDeps.owners)
            : createWorkerOwnerSource(ctx.procFs.root, () => createOwnerScanner(ctx.procFs));
      // The first frame does not wait for the owner worker's first full scan: snapshots go
      // without owners until it is done ("owners: scanning…"), then the poller refreshes.
      // This machine's tables (or a recorded tree), no --pid: read in a thread of their own.
      const tableReader = ctx.remote == null && ctx.scopeLabel === null ? createTableReader(ctx.procFs.root) : null;
      const collector = createLiveCollector({ ...ctx.collectDeps, owners, tableReader });
      // At 100k sockets the first refresh draws exact counts and a first window of rows before
      // parsing the rest (Snapshot.partial; the poller passes onPartial).
      return {
        prime: () => collector.prime(),
        collect: (onPartial) => collector.collect(onPartial),
        close: () => {
          collector.stop();
          void tableReader?.close();
          return owners?.close() ?? Promise.resolve();
        },
      };
    };
    // SOCKSCOPE_COLLECT_THREAD=worker: this machine's tables (or a recorded tree), no --pid, are
    // read, parsed and joined in the collect worker, which sends only what changed. Not the
    // default: under churn (most lines changing every refresh) receiving the changed records cost
    // the main thread more than parsing them (bench/README.md, issue 11).
    const local = ctx.remote == null && ctx.scopeLabel === null && services.env['SOCKSCOPE_COLLECT_THREAD'] === 'worker';
    const collector =
      (local
        ? createWorkerCollectSource(
            { procRoot: ctx.procFs.root, processes: options.processes, ownerWorkerPath: ownerWorkerPath() },
            inThisThread,
          )
        : null) ?? inThisThread();
    // Per-connection rates (ss -tinH, at most 10% of the time) and UNIX peers (ss -xH): the live
    // kernel only, inside --pid through nsenter.
    const ss = ssContext(ctx);
    const unavailable = ss?.unavailable ?? null;
    const ssReady = ss !== null && unavailable === null ? ss : null;
    const connRates =
      ssReady === null
        ? null
        : createConnRatesSource(ssReady.deps, ssReady.options, { intervalMs: options.intervalMs, budgetFraction: 0.1 });
    return {
      prime: () => collector.prime(),
      collect: (onPartial) => collector.collect(onPartial),
      targetGone: () => ctx.targetGone?.() ?? null,
      readSysctls: () => readNetSysctls(ctx.procFs),
      // A generous timeout: a refresh of a large table blocks the main thread for seconds, and a
      // timeout that fires before ss's output is read would throw the answer away every time.
      readBacklogs: useSs ? () => readListenBacklogs(15_000) : null,
      // ss unavailable here (not root for --pid's nsenter, no ss): the rates say why, every refresh.
      readConnRates:
        unavailable !== null
          ? () => Promise.resolve({ ok: false, message: unavailable })
          : connRates === null
            ? null
            : (snapshot, ports) =>
                connRates.refresh(snapshot, ports).then((status) =>
                  status.ok
                    ? {
                        ok: true,
                        rates: status.rates.rates,
                        total: totalRates(status.rates.rates),
                        asOfMs: status.rates.asOfMs,
                        // Spaced beyond the refresh by their CPU: the header says so.
                        ...(status.nextInMs > options.intervalMs ? { spaced: { everyMs: status.nextInMs, cpuMs: status.cpuMs } } : {}),
                      }
                    : status,
                ),
      readUnixPeers:
        ssReady === null
          ? null
          : (snapshot) => collectUnixPeers(ssReady.deps, ssReady.options, snapshot).then((r) => (r.ok ? r.peers : null)),
      close: () => collector.close(),
    };
  };
  // SOCKSCOPE_STATS_FILE: the dashboard's own figures for `npm run bench` and the soak test.
  const statsFile = services.env['SOCKSCOPE_STATS_FILE'];
  // SOCKSCOPE_LONG_TASK_MS: the main thread's blocks over that many ms go into the stats file.
  const longTaskMs = Number(services.env['SOCKSCOPE_LONG_TASK_MS'] ?? '');
  return {
    stdin: services.stdin,
    stdout: services.stdout,
    stderr: services.stderr,
    env: services.env,
    signals: services.signals,
    raiseSignal: services.raiseSignal,
    monotonicMs: services.monotonicMs,
    // Every thread, and the children (ss) once they have exited.
    cpuMs: () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000 + (readChildrenCpuMs() ?? 0);
    },
    timeZoneOffsetMin: new Date(services.now()).getTimezoneOffset(),
    intervalMs: options.intervalMs,
    color: options.color,
    filterText: ctx.filterText ?? '',
    servicePort: (name) => ctx.serviceTable?.().portOf.get(name),
    scopeLabel: ctx.scopeLabel,
    serviceNames: ctx.serviceTable?.().nameOf ?? null,
    source: recording !== null ? { kind: 'replay', recording } : { kind: 'live', open: openLive },
    // ss asks the local kernel: over --ssh it would describe another machine's sockets.
    fetchTcpInfo: (s) => (ctx.remote != null ? Promise.resolve(null) : readTcpInfo(s)),
    recorder,
    ...(Number.isFinite(longTaskMs) && longTaskMs > 0 ? { longTaskMs } : {}),
    writeStats:
      statsFile === undefined || statsFile === ''
        ? null
        : (stats) => {
            try {
              const memory = process.memoryUsage();
              fs.writeFileSync(statsFile, JSON.stringify({ ...stats, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed }));
            } catch {
              // best effort: a measuring aid only
            }
          },
  };
}
