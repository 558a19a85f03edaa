// The headless modes: `--once` (table, --json, --summary) and streaming (`--json`/`--summary`
// without --once: one document per interval until interrupted).

import { countByState } from '../model/aggregate.js';
import type { Snapshot } from '../model/types.js';
import { collectSnapshotAsync, readKernelCounters, type CollectDeps } from '../proc/collect-snapshot.js';
import { collectStateCounts } from '../proc/collect-counts.js';
import { createWorkerOwnerSource } from '../proc/owner-source.js';
import { SshError } from '../proc/ssh-source.js';
import type { AppContext } from '../main.js';
import { formatJsonDocument, formatSocketTable, formatSummary, stringifyForTerminal, type SocketExtras } from './format-once.js';
import { collectUnixPeers, createConnRatesSource, type ConnRatesSource } from '../proc/collect-conn-rates.js';
import { DEFAULT_SS_OPTIONS, runCommand, ssUnavailableReason, type SsDeps, type SsOptions } from '../proc/read-ss-info.js';
import { portsOfShownConnections } from '../model/conn-rates.js';

type Collect = (deps: CollectDeps) => Snapshot;

/** Hints a user should see once: unreadable owners, skipped lines. */
export function snapshotWarnings(snapshot: Snapshot): string[] {
  const warnings: string[] = [];
  if (snapshot.owners.enabled && snapshot.owners.unreadableProcesses > 0) {
    warnings.push(
      `owners of sockets in ${snapshot.owners.unreadableProcesses} processes could not be read (not root?): they show as "-"; run as root to see them all`,
    );
  }
  for (const [file, n] of Object.entries(snapshot.issues.files)) {
    warnings.push(`skipped ${n} line${n === 1 ? '' : 's'} of ${file} that did not parse`);
  }
  return warnings;
}

/** Summary needs no owners unless the filter asks about processes. */
function depsFor(ctx: AppContext): CollectDeps {
  return ctx.options.summary && ctx.filter === null ? { ...ctx.collectDeps, owners: null } : ctx.collectDeps;
}

/**
 * One snapshot. Over ssh (ctx.remote) only async reads work: the async collector with the
 * remote owner source (none for a summary without a filter, as in depsFor).
 */
function snapshotOf(ctx: AppContext, collect: Collect, deps: CollectDeps): Snapshot | Promise<Snapshot> {
  const remote = ctx.remote;
  if (remote == null) return collect(deps);
  const wantOwners = !(ctx.options.summary && ctx.filter === null);
  return collectSnapshotAsync({ ...deps, owners: wantOwners ? remote.owners : null });
}

/** A lost ssh connection is one line and exit 1, not an internal error. */
function sshFailure(ctx: AppContext, err: unknown): number {
  if (!(err instanceof SshError)) throw err;
  ctx.services.stderr.write(`sockscope: ${err.message}\n`);
  return 1;
}

/** What ss adds to one snapshot, and what could not be read (a warning). */
export interface Enrichment {
  readonly extras: SocketExtras;
  readonly ratesAsOfMs: number | null;
  readonly warnings: readonly string[];
}

const NO_ENRICHMENT: Enrichment = { extras: {}, ratesAsOfMs: null, warnings: [] };

/**
 * ss for this context: the live kernel only (not a recorded --proc-root, not over ssh), inside
 * the --pid namespace through nsenter. null when ss does not apply here.
 */
export function ssContext(ctx: AppContext): { deps: SsDeps; options: SsOptions; unavailable: string | null } | null {
  const { services } = ctx;
  const netnsPid = ctx.options.pid;
  const reason = ssUnavailableReason({
    procRoot: ctx.procFs.root,
    remote: ctx.remote != null,
    uid: typeof process.getuid === 'function' ? process.getuid() : 0,
    netnsPid,
  });
  // A recorded tree or ssh: the tables are not this kernel's, nothing to join ss output with.
  if (ctx.remote != null || ctx.procFs.root !== '/proc') return null;
  return {
    deps: { run: services.runCommand ?? runCommand, now: services.now, monotonicMs: services.monotonicMs },
    options: { ...DEFAULT_SS_OPTIONS, netnsPid },
    unavailable: reason,
  };
}

/**
 * UNIX peers (one `ss -xH`) and, with a rates source (streams), per-connection rates for one
 * snapshot. A failure is a warning: the document is still written without those fields.
 */
export async function enrichSnapshot(ctx: AppContext, snapshot: Snapshot, rates: ConnRatesSource | null): Promise<Enrichment> {
  const ss = ssContext(ctx);
  if (ss === null || ctx.options.summary) return NO_ENRICHMENT;
  if (ss.unavailable !== null) return { ...NO_ENRICHMENT, warnings: [`UNIX peers and TCP rates unavailable: ${ss.unavailable}`] };
  const warnings: string[] = [];
  const extras: { unixPeers?: SocketExtras['unixPeers']; rates?: SocketExtras['rates'] } = {};
  let ratesAsOfMs: number | null = null;
  // ss -xH only when a UNIX socket is shown (a filter like `port 80` needs no peers).
  const shownSockets = ctx.filter === null ? snapshot.sockets : snapshot.sockets.filter(ctx.filter);
  if (shownSockets.some((s) => s.protocol === 'unix')) {
    const peers = await collectUnixPeers(ss.deps, ss.options, snapshot);
    if (peers.ok) extras.unixPeers = peers.peers;
    else warnings.push(`UNIX peers unavailable: ${peers.message}`);
  }
  if (rates !== null) {
    const shown = ctx.filter === null ? null : portsOfShownConnections(shownSockets);
    const r = await rates.refresh(snapshot, shown);
    if (r.ok) {
      extras.rates = r.rates.rates;
      ratesAsOfMs = r.rates.asOfMs;
      if (r.truncated) warnings.push('ss printed more than the output cap: some connections have no rates');
    } else warnings.push(`TCP rates unavailable: ${r.message}`);
  }
  return { extras, ratesAsOfMs, warnings };
}

/** A rates source for streams: ss on its own cadence (at most 10% of the time). */
function ratesSourceFor(ctx: AppContext): ConnRatesSource | null {
  const ss = ssContext(ctx);
  if (ss === null || ss.unavailable !== null || ctx.options.summary) return null;
  return createConnRatesSource(ss.deps, ss.options, { intervalMs: ctx.options.intervalMs, budgetFraction: 0.1 });
}

function render(ctx: AppContext, snapshot: Snapshot, json: boolean, enrichment: Enrichment = NO_ENRICHMENT): string {
  const sockets = ctx.filter === null ? snapshot.sockets : snapshot.sockets.filter(ctx.filter);
  if (json) {
    return formatJsonDocument({
      snapshot,
      counts: countByState(snapshot.sockets),
      sockets: ctx.options.summary ? [] : sockets,
      filter: ctx.filterText,
      warnings: [...snapshotWarnings(snapshot), ...enrichment.warnings],
      extras: enrichment.extras,
      ratesAsOfMs: enrichment.ratesAsOfMs,
    });
  }
  if (ctx.options.summary) return formatSummary(countByState(sockets));
  return formatSocketTable(sockets, enrichment.extras);
}

/** --once --summary without a filter: counts only, from the state column (no records built). */
function runFastSummary(ctx: AppContext): number {
  const { counts, files } = collectStateCounts(ctx.procFs);
  const { services } = ctx;
  if (ctx.options.json) {
    services.stdout.write(
      `${stringifyForTerminal({
        takenAt: new Date(services.now()).toISOString(),
        host: services.hostname(),
        filter: null,
        counts,
        counters: readKernelCounters(ctx.procFs),
        skippedLines: Object.values(files).reduce((a, b) => a + b, 0),
        warnings: [],
        sockets: [],
      })}\n`,
    );
  } else services.stdout.write(`${formatSummary(counts)}\n`);
  for (const [file, n] of Object.entries(files)) services.stderr.write(`sockscope: skipped ${n} line${n === 1 ? '' : 's'} of ${file} that did not parse\n`);
  return 0;
}

export function runOnce(ctx: AppContext, collect: Collect): number | Promise<number> {
  const printWith = (snapshot: Snapshot, enrichment: Enrichment): number => {
    ctx.services.stdout.write(`${render(ctx, snapshot, ctx.options.json, enrichment)}\n`);
    for (const w of [...snapshotWarnings(snapshot), ...enrichment.warnings]) ctx.services.stderr.write(`sockscope: ${w}\n`);
    return 0;
  };
  // The table and --json show UNIX peers (one ss -xH after the snapshot); a summary does not.
  const print = (snapshot: Snapshot): number | Promise<number> =>
    ssContext(ctx) === null || ctx.options.summary ? printWith(snapshot, NO_ENRICHMENT) : enrichSnapshot(ctx, snapshot, null).then((e) => printWith(snapshot, e));
  if (ctx.remote != null) return Promise.resolve(snapshotOf(ctx, collect, depsFor(ctx))).then(print, (err: unknown) => sshFailure(ctx, err));
  if (ctx.options.summary && ctx.filter === null) return runFastSummary(ctx);
  const deps = depsFor(ctx);
  // With owners (and our own namespace: --pid restricts the scanner built by main), the fd scan
  // runs in a worker thread while this thread reads and parses the tables: on a busy machine the
  // two are the whole cost of a snapshot, and they overlap on two cores.
  if (deps.owners !== null && ctx.scopeLabel === null && !ctx.options.summary) {
    const scanner = deps.owners;
    const owners = createWorkerOwnerSource(ctx.procFs.root, () => scanner);
    owners.prime?.();
    return collectSnapshotAsync({ ...deps, owners })
      .then(print)
      .finally(() => owners.close());
  }
  return print(collect(deps));
}

/** One document per interval until SIGINT/SIGTERM, or until stdout goes away. */
export function runStream(ctx: AppContext, collect: Collect): Promise<number> {
  const deps = depsFor(ctx);
  const { services } = ctx;
  const rates = ratesSourceFor(ctx);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false; // an ssh collection may still be under way when stopped
    const warned = new Set<string>();
    const halt = (): void => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      services.signals.off('SIGINT', stop);
      services.signals.off('SIGTERM', stop);
    };
    const stop = (): void => {
      halt();
      resolve(0);
    };
    services.signals.on('SIGINT', stop);
    services.signals.on('SIGTERM', stop);
    services.stdout.on?.('error', stop);
    const show = (snapshot: Snapshot, enrichment: Enrichment = NO_ENRICHMENT): void => {
      if (stopped) return;
      services.stdout.write(`${render(ctx, snapshot, ctx.options.json, enrichment)}\n${ctx.options.json ? '' : '\n'}`);
      for (const w of [...snapshotWarnings(snapshot), ...enrichment.warnings]) {
        if (!warned.has(w)) services.stderr.write(`sockscope: ${w}\n`);
        warned.add(w);
      }
      timer = setTimeout(tick, ctx.options.intervalMs);
    };
    const tick = (): void => {
      const got = snapshotOf(ctx, collect, deps);
      if (!(got instanceof Promise)) {
        // --json streams carry UNIX peers and per-connection rates (ss, on its own cadence).
        if (ctx.options.json && ssContext(ctx) !== null) {
          enrichSnapshot(ctx, got, rates).then(
            (e) => show(got, e),
            () => show(got),
          );
          return;
        }
        return show(got);
      }
      // Over ssh: a lost connection ends the stream with one line, exit 1.
      got.then(show, (err: unknown) => {
        if (stopped) return;
        halt();
        try {
          resolve(sshFailure(ctx, err));
        } catch (other) {
          reject(other instanceof Error ? other : new Error(String(other)));
        }
      });
    };
    tick();
  });
}
