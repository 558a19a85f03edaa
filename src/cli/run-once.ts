// The headless modes: `--once` (table, --json, --summary) and streaming (`--json`/`--summary`
// without --once: one document per interval until interrupted).

import { countByState } from '../model/aggregate.js';
import type { Snapshot, SocketRecord } from '../model/types.js';
import { NET_TABLES, collectSnapshotAsync, type CollectDeps, type OwnerLookup } from '../proc/collect-snapshot.js';
import { createWorkerOwnerSource, overlayOwnerChanges, type OwnerTableSource } from '../proc/owner-source.js';
import { readListenBacklogs } from '../proc/read-backlogs.js';
import { withSizedTableReads } from '../proc/sized-reads.js';
import { SshError } from '../proc/ssh/errors.js';
import type { AppContext, OutputStream } from './context.js';
import {
  finishSocketTable,
  formatJsonDocumentChunks,
  formatSocketTableChunks,
  prepareSocketTable,
  type ListenBacklogs,
} from './format-once.js';
import { formatSummary } from './format-counts.js';
import { collectRemoteCounts, runCountsOnly, writeCountsDocument, type CountsDocument } from './run-summary.js';
import { collectUnixPeers, createConnRatesSource, type ConnRatesSource } from '../proc/collect-conn-rates.js';
import { DEFAULT_SS_OPTIONS, readSsUnixPeers, runCommand, ssUnavailableReason, type SsDeps, type SsOptions } from '../proc/read-ss-info.js';
import { joinUnixPeers } from '../model/unix-peers.js';
import { portsOfShownConnections } from '../model/conn-rates.js';
import type { SocketExtras } from '../view/presenters.js';

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
  for (const [file, why] of Object.entries(snapshot.issues.unreadable ?? {})) warnings.push(`cannot read ${file}: ${why}`);
  return warnings;
}

/**
 * Summary needs no owners unless the filter asks about processes. Only the tables the filter can
 * match sockets from are read (ctx.filterProtocols), except for --json, whose `totals` count
 * everything.
 */
function depsFor(ctx: AppContext): CollectDeps {
  const deps = ctx.options.summary && ctx.filter === null ? { ...ctx.collectDeps, owners: null } : ctx.collectDeps;
  const only = ctx.filterProtocols;
  if (only == null || ctx.options.json) return deps;
  return { ...deps, protocols: (deps.protocols ?? NET_TABLES).filter((p) => only.has(p)) };
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

/** --pid: why the target process's namespace can no longer be shown, or null (see AppContext.targetGone). */
function pidGoneMessage(ctx: AppContext): string | null {
  return ctx.targetGone?.() ?? null;
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
export async function enrichSnapshot(
  ctx: AppContext,
  snapshot: Snapshot,
  rates: ConnRatesSource | null,
  unixPeersRead: ReturnType<typeof readSsUnixPeers> | null = null,
): Promise<Enrichment> {
  const ss = ssContext(ctx);
  if (ss === null || ctx.options.summary) return NO_ENRICHMENT;
  if (ss.unavailable !== null) return { ...NO_ENRICHMENT, warnings: [`UNIX peers and TCP rates unavailable: ${ss.unavailable}`] };
  const warnings: string[] = [];
  const extras: { unixPeers?: SocketExtras['unixPeers']; rates?: SocketExtras['rates'] } = {};
  let ratesAsOfMs: number | null = null;
  // ss -xH only when a UNIX socket is shown (a filter like `port 80` needs no peers).
  const shownSockets = ctx.filter === null ? snapshot.sockets : snapshot.sockets.filter(ctx.filter);
  if (shownSockets.some((s) => s.protocol === 'unix')) {
    // An `ss -xH` started earlier (unixPeersRead, see printTableWhileScanning) is joined here.
    const peers =
      unixPeersRead === null
        ? await collectUnixPeers(ss.deps, ss.options, snapshot)
        : await unixPeersRead.then((r) => (r.ok ? { ok: true as const, peers: joinUnixPeers(snapshot.sockets, r.value) } : r));
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

/**
 * The document for one snapshot. `counts` follow the filter (what is shown), `totals` cover
 * everything read; `backlogs` (from `ss -ltnH`) fill LISTEN rows' Send-Q and JSON `backlog`.
 */
function render(
  ctx: AppContext,
  snapshot: Snapshot,
  json: boolean,
  backlogs: ListenBacklogs | null = null,
  enrichment: Enrichment = NO_ENRICHMENT,
): string {
  return renderChunks(ctx, snapshot, json, backlogs, enrichment).join(json ? '' : '\n');
}

/**
 * render() in pieces: joined (with "\n" for the table, nothing for JSON) they make its text.
 * The --once table comes a few thousand rows at a time, a JSON document a few thousand sockets.
 */
function renderChunks(
  ctx: AppContext,
  snapshot: Snapshot,
  json: boolean,
  backlogs: ListenBacklogs | null = null,
  enrichment: Enrichment = NO_ENRICHMENT,
): string[] {
  const sockets = ctx.filter === null ? snapshot.sockets : snapshot.sockets.filter(ctx.filter);
  // The table shows no counts: only the documents with counts count (~20 ms at 100k sockets).
  if (!json && !ctx.options.summary) return formatSocketTableChunks(sockets, backlogs, enrichment.extras);
  const counts = countByState(sockets);
  if (json) {
    return formatJsonDocumentChunks({
      snapshot,
      counts,
      totals: ctx.filter === null ? counts : countByState(snapshot.sockets),
      sockets: ctx.options.summary ? [] : sockets,
      backlogs,
      filter: ctx.filterText,
      warnings: [...snapshotWarnings(snapshot), ...enrichment.warnings],
      extras: enrichment.extras,
      ratesAsOfMs: enrichment.ratesAsOfMs,
    });
  }
  return [formatSummary(counts)];
}

/**
 * Write the pieces of one document joined with `separator` and ended by "\n", waiting for
 * 'drain' whenever a write leaves more queued than the stream's buffer holds (or until the
 * stream errs or closes: a reader that went away ends the output, not the process).
 */
function writePieces(out: OutputStream, pieces: readonly string[], separator: string): Promise<void> {
  return new Promise((resolve) => {
    let i = 0;
    const next = (): void => {
      while (i < pieces.length) {
        const piece = pieces[i++]!;
        // The separator (the end) written on its own: a piece is ~1 MB, and `piece + separator`
        // would be copied whole once more to make one flat string of it.
        const end = i === pieces.length ? '\n' : separator;
        let more = out.write(piece);
        if (end !== '') more = out.write(end) && more;
        if (!more && i < pieces.length && out.on !== undefined) {
          const go = (): void => {
            out.off?.('drain', go);
            out.off?.('error', stop);
            out.off?.('close', stop);
            next();
          };
          const stop = (): void => {
            out.off?.('drain', go);
            out.off?.('error', stop);
            out.off?.('close', stop);
            resolve();
          };
          out.on('drain', go);
          out.on('error', stop);
          out.on('close', stop);
          return;
        }
      }
      resolve();
    };
    next();
  });
}

/**
 * Listen backlogs for `--once` rows, from `ss -ltnH` run alongside the collection. ss answers
 * for its own network namespace only: not for a recorded tree, --pid/--netns, or over ssh. null
 * when not asked or when ss is missing or fails (rows then show "-").
 */
function backlogsFor(ctx: AppContext): Promise<ListenBacklogs | null> | null {
  if (ctx.options.summary || ctx.remote != null || ctx.scopeLabel !== null || ctx.procFs.root !== '/proc') return null;
  return readListenBacklogs().then((b) => (b.size > 0 ? b : null));
}

/** Counts alone are enough: --summary without a filter. */
const wantsCountsOnly = (ctx: AppContext): boolean => ctx.options.summary && ctx.filter === null;

export function runOnce(ctx: AppContext, collect: Collect): number | Promise<number> {
  const printWith = async (
    snapshot: Snapshot,
    backlogs: ListenBacklogs | null,
    enrichment: Enrichment,
    pieces: readonly string[] = renderChunks(ctx, snapshot, ctx.options.json, backlogs, enrichment),
  ): Promise<number> => {
    await writePieces(ctx.services.stdout, pieces, ctx.options.json ? '' : '\n');
    for (const w of [...snapshotWarnings(snapshot), ...enrichment.warnings]) ctx.services.stderr.write(`sockscope: ${w}\n`);
    return 0;
  };
  // The table and --json show UNIX peers (one ss -xH after the snapshot); a summary does not.
  const print = (snapshot: Snapshot, backlogs: ListenBacklogs | null = null): number | Promise<number> =>
    ssContext(ctx) === null || ctx.options.summary
      ? printWith(snapshot, backlogs, NO_ENRICHMENT)
      : enrichSnapshot(ctx, snapshot, null).then((e) => printWith(snapshot, backlogs, e));
  if (ctx.remote != null && wantsCountsOnly(ctx))
    return collectRemoteCounts(ctx, ctx.remote).then(
      (doc) => writeCountsDocument(ctx, doc),
      (err: unknown) => sshFailure(ctx, err),
    );
  if (ctx.remote != null)
    return Promise.resolve(snapshotOf(ctx, collect, depsFor(ctx))).then(
      (s) => print(s),
      (err: unknown) => sshFailure(ctx, err),
    );
  const counted = runCountsOnly(ctx);
  if (counted !== null) return counted;
  // One snapshot, printed and never compared with another: no record keys (a table, a JSON
  // document and their filters never read them; per-connection rates, which do, are for streams),
  // and the TCP tables read into buffers sized from the socket counts.
  const oneShot = depsFor(ctx);
  const deps: CollectDeps = { ...oneShot, procFs: withSizedTableReads(oneShot.procFs), keys: false };
  // With owners (and our own namespace: --pid restricts the scanner built by main), the fd scan
  // runs in a worker thread while this thread reads and parses the tables: on a busy machine the
  // two are the whole cost of a snapshot, and they overlap on two cores. The scan is about as
  // long as the read and parse at 100k live sockets, so the worker starts first, before
  // `ss -ltnH` is spawned.
  if (deps.owners !== null && ctx.scopeLabel === null && !ctx.options.summary) {
    const scanner = deps.owners;
    const owners = createWorkerOwnerSource(ctx.procFs.root, () => scanner);
    const table = owners.primeTable();
    const backlogs = backlogsFor(ctx);
    if (!ctx.options.json && ctx.filter === null)
      return printTableWhileScanning(ctx, collect, deps, owners, table, backlogs, printWith).finally(() => owners.close());
    // --json and filters: the same collection, the document made once the owners are joined.
    const bare = collect({ ...deps, owners: null });
    const changes = owners.scanChanges(socketInodes(bare.sockets));
    return Promise.all([table, changes, backlogs])
      .then(([t, c, b]) => print(joinOwnersInPlace(bare, overlayOwnerChanges(t, c), deps.userName), b))
      .finally(() => owners.close());
  }
  const backlogs = backlogsFor(ctx);
  // The UNIX peers' `ss -xH` too is started before the tables are read: spawned from a heap of
  // 100k records it costs more (~40 ms), and it then runs while they are parsed.
  const unixPeersRead = earlyUnixPeersRead(ctx);
  const snapshot = collect(deps);
  const printEnriched = (b: ListenBacklogs | null): Promise<number> =>
    enrichSnapshot(ctx, snapshot, null, unixPeersRead).then((e) => printWith(snapshot, b, e));
  if (unixPeersRead !== null) return backlogs === null ? printEnriched(null) : backlogs.then(printEnriched);
  return backlogs === null ? print(snapshot) : backlogs.then((b) => print(snapshot, b));
}

/**
 * `ss -xH` started before a snapshot is collected, for the table or JSON it will print: null when
 * ss does not apply, for a summary, or when the filter cannot show a UNIX socket.
 */
function earlyUnixPeersRead(ctx: AppContext): ReturnType<typeof readSsUnixPeers> | null {
  const ss = ssContext(ctx);
  if (ss === null || ss.unavailable !== null || ctx.options.summary) return null;
  if (ctx.filterProtocols != null && !ctx.filterProtocols.has('unix')) return null;
  return readSsUnixPeers(ss.deps, ss.options);
}

/** The fields of a record that its owner sets (see joinOwnersInPlace). */
type OwnerFields = { -readonly [K in 'owner' | 'sharedBy' | 'uid' | 'user']: SocketRecord[K] };

/**
 * Join a snapshot taken without owners with an owner scan, in place: what collectSnapshotAsync
 * does when it has the owners (the holder of each socket inode, how many others share it, and
 * for tables without a uid column — UNIX — the holder's uid and user name). Only for a snapshot
 * nobody else holds yet (`--once` builds it, joins it, prints it).
 */
export function joinOwnersInPlace(snapshot: Snapshot, owners: OwnerLookup, userName: (uid: number) => string): Snapshot {
  for (const s of snapshot.sockets) {
    if (s.inode === 0) continue;
    const owner = owners.lookup(s.inode);
    if (owner === null) continue;
    const record = s as unknown as OwnerFields;
    record.owner = owner;
    record.sharedBy = owners.sharedBy(s.inode);
    if (s.uid < 0) {
      record.uid = owner.uid;
      record.user = owner.uid >= 0 ? userName(owner.uid) : '';
    }
  }
  return { ...snapshot, owners: owners.stats };
}

/**
 * The `--once` table with owners, made while the owner worker scans. The worker's full scan
 * starts first (`ownerTable`: every socket inode's holder, from owners.primeTable()) and runs
 * while this thread reads and parses the tables without owners (read with blocking reads: a
 * read(2) per 4 KB page of procfs, each a round trip through libuv's pool when async, cost ~0.3 s
 * more CPU at 100k sockets, and this thread has nothing else to do meanwhile); then the worker is sent their
 * socket inodes and answers only what changed since its table (sockets opened meanwhile: a few
 * rows instead of every socket's), and meanwhile this thread measures every cell that no owner
 * changes (prepareSocketTable: the column widths). Then the owners are joined in place and the
 * table's rows made. The same text as collecting with the owners and formatting after (a
 * test compares both): only the order of the work differs, and on two cores the scan and the
 * table's making overlap.
 */
async function printTableWhileScanning(
  ctx: AppContext,
  collect: Collect,
  deps: CollectDeps,
  owners: OwnerTableSource,
  ownerTable: Promise<OwnerLookup>,
  backlogs: Promise<ListenBacklogs | null> | null,
  printWith: (snapshot: Snapshot, backlogs: ListenBacklogs | null, enrichment: Enrichment, pieces: readonly string[]) => Promise<number>,
): Promise<number> {
  // The UNIX peers' `ss -xH` runs while the tables are read: joined after the owners, it no
  // longer waits at the end.
  const ss = ssContext(ctx);
  const unixPeersRead = ss !== null && ss.unavailable === null ? readSsUnixPeers(ss.deps, ss.options) : null;
  const bare = collect({ ...deps, owners: null });
  const changes = owners.scanChanges(socketInodes(bare.sockets));
  const table = prepareSocketTable(bare.sockets);
  const lookup = overlayOwnerChanges(await ownerTable, await changes);
  const snapshot = joinOwnersInPlace(bare, lookup, deps.userName);
  const b = backlogs === null ? null : await backlogs;
  const enrichment = ss === null ? NO_ENRICHMENT : await enrichSnapshot(ctx, snapshot, null, unixPeersRead);
  return printWith(snapshot, b, enrichment, finishSocketTable(table, b, enrichment.extras));
}

/**
 * The non-zero socket inodes of a snapshot's records, in order: what wantedInodes holds (records
 * are de-duplicated by inode), without a Set of 100k numbers on the way.
 */
function socketInodes(sockets: readonly SocketRecord[]): Float64Array {
  const inodes = new Float64Array(sockets.length);
  let n = 0;
  for (const s of sockets) if (s.inode !== 0) inodes[n++] = s.inode;
  return n === inodes.length ? inodes : inodes.slice(0, n);
}

/** The --json stream's marker line for intervals left out: `{"skipped":N}`. */
export function formatSkippedJson(skipped: number): string {
  return JSON.stringify({ skipped });
}

/** The --summary stream's marker line: a comment, unlike any counts line (those start with a letter or a space). */
export function formatSkippedSummary(skipped: number): string {
  return `# skipped ${skipped} interval${skipped === 1 ? '' : 's'}: the reader fell behind`;
}

/**
 * One document per interval until SIGINT/SIGTERM, or until stdout goes away. Backpressure: when
 * a write leaves more queued than stdout's buffer holds (write() returns false), the intervals
 * until 'drain' are skipped, not collected, and the next document is preceded by a marker line
 * saying how many were left out. At most one document beyond the buffer is ever queued.
 */
export function runStream(ctx: AppContext, collect: Collect): Promise<number> {
  const deps = depsFor(ctx);
  const { services } = ctx;
  const rates = ratesSourceFor(ctx);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false; // an ssh collection may still be under way when stopped
    const warned = new Set<string>();
    let blocked = false; // a write filled stdout's buffer: waiting for 'drain'
    let skipped = 0; // intervals left out since the last document
    const onDrain = (): void => {
      blocked = false;
    };
    const halt = (): void => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      services.signals.off('SIGINT', stop);
      services.signals.off('SIGTERM', stop);
      services.stdout.off?.('drain', onDrain);
    };
    const stop = (): void => {
      halt();
      resolve(0);
    };
    const fail = (code: number): void => {
      halt();
      resolve(code);
    };
    services.signals.on('SIGINT', stop);
    services.signals.on('SIGTERM', stop);
    services.stdout.on?.('error', stop);
    services.stdout.on?.('drain', onDrain);
    const write = (text: string): void => {
      if (!services.stdout.write(text)) blocked = true;
    };
    const showDocument = (doc: CountsDocument): void => {
      if (stopped) return;
      if (skipped > 0) write(`${ctx.options.json ? formatSkippedJson(skipped) : formatSkippedSummary(skipped)}\n`);
      skipped = 0;
      write(`${doc.text}\n${ctx.options.json ? '' : '\n'}`);
      for (const w of doc.warnings) {
        if (!warned.has(w)) services.stderr.write(`sockscope: ${w}\n`);
        warned.add(w);
      }
      timer = setTimeout(tick, ctx.options.intervalMs);
    };
    const show = (snapshot: Snapshot, enrichment: Enrichment = NO_ENRICHMENT): void =>
      showDocument({
        text: render(ctx, snapshot, ctx.options.json, null, enrichment),
        warnings: [...snapshotWarnings(snapshot), ...enrichment.warnings],
      });
    // Over ssh: a lost connection ends the stream with one line, exit 1.
    const lost = (err: unknown): void => {
      if (stopped) return;
      halt();
      try {
        resolve(sshFailure(ctx, err));
      } catch (other) {
        reject(other instanceof Error ? other : new Error(String(other)));
      }
    };
    const tick = (): void => {
      timer = undefined;
      if (blocked) {
        // The reader has not taken the last document yet: leave this interval out.
        skipped++;
        timer = setTimeout(tick, ctx.options.intervalMs);
        return;
      }
      // --pid: the process may have exited; its namespace's tables then read as empty.
      const gone = pidGoneMessage(ctx);
      if (gone !== null) {
        services.stderr.write(`sockscope: ${gone}\n`);
        fail(1);
        return;
      }
      if (ctx.remote != null && wantsCountsOnly(ctx)) {
        collectRemoteCounts(ctx, ctx.remote).then(showDocument, lost);
        return;
      }
      let got: Snapshot | Promise<Snapshot>;
      try {
        got = snapshotOf(ctx, collect, deps);
      } catch (err) {
        halt();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (!(got instanceof Promise)) {
        // --json streams carry UNIX peers and per-connection rates (ss, on its own cadence).
        if (ctx.options.json && ssContext(ctx) !== null) {
          const snapshot = got;
          enrichSnapshot(ctx, snapshot, rates).then(
            (e) => show(snapshot, e),
            () => show(snapshot),
          );
          return;
        }
        return show(got);
      }
      got.then(show, lost);
    };
    tick();
  });
}
