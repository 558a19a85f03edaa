// `--once --summary` without a filter: counts per protocol and state from the state column of
// each table, no socket records. Kept apart from run-once.ts (owners, ss, the table and JSON
// formatters) so that this mode, whose cost is mostly node's start-up and the kernel's, loads
// only what it uses. Over --ssh the remote host counts the TCP state column itself (awk), so a
// refresh moves a few lines per table instead of the tables (collectRemoteCounts, also used by
// the --summary stream).

import type { KernelCounters } from '../model/types.js';
import { NET_TABLES, readKernelCounters, readKernelCountersAsync } from '../proc/collect-snapshot.js';
import { collectStateCountsAsync, type StateCountsResult } from '../proc/collect-counts.js';
import type { AppContext, RemoteContext } from './context.js';
import { formatSummary, stringifyForTerminal } from './format-counts.js';

/** Whether `--once` here needs only counts (a summary of this machine's or a tree's tables, nothing filtered). */
export function isCountsOnly(ctx: AppContext): boolean {
  return ctx.options.summary && ctx.filter === null && ctx.remote == null;
}

/** --once --summary without a filter, or null when the options need socket records (see isCountsOnly). */
export function runCountsOnly(ctx: AppContext): Promise<number> | null {
  return isCountsOnly(ctx) ? runFastSummary(ctx) : null;
}

/** A document built from counts alone (--summary without a filter, text or --json), and its warnings. */
export interface CountsDocument {
  readonly text: string;
  readonly warnings: readonly string[];
}

function countsDocument(ctx: AppContext, result: StateCountsResult, counters: KernelCounters | null): CountsDocument {
  const { counts, files, unreadable } = result;
  const { services } = ctx;
  const text = ctx.options.json
    ? stringifyForTerminal({
        takenAt: new Date(services.now()).toISOString(),
        host: services.hostname(),
        filter: null,
        counts,
        totals: counts,
        counters: counters ?? {},
        skippedLines: Object.values(files).reduce((a, b) => a + b, 0),
        warnings: [],
        sockets: [],
      })
    : formatSummary(counts);
  const warnings = [
    ...Object.entries(files).map(([file, n]) => `skipped ${n} line${n === 1 ? '' : 's'} of ${file} that did not parse`),
    ...Object.entries(unreadable).map(([file, why]) => `cannot read ${file}: ${why}`),
  ];
  return { text, warnings };
}

/** Write a document and its warnings (each a line `sockscope: …` on stderr). */
export function writeCountsDocument(ctx: AppContext, doc: CountsDocument): number {
  ctx.services.stdout.write(`${doc.text}\n`);
  for (const w of doc.warnings) ctx.services.stderr.write(`sockscope: ${w}\n`);
  return 0;
}

async function runFastSummary(ctx: AppContext): Promise<number> {
  const result = await collectStateCountsAsync(ctx.procFs);
  return writeCountsDocument(ctx, countsDocument(ctx, result, ctx.options.json ? readKernelCounters(ctx.procFs) : null));
}

/** The counts over --ssh (ctx.remote): the TCP tables counted there when it has awk. */
export async function collectRemoteCounts(ctx: AppContext, remote: RemoteContext): Promise<CountsDocument> {
  const tally = ctx.procFs === remote.procFs ? remote.procFs.stateTally : null;
  const [result, counters] = await Promise.all([
    collectStateCountsAsync(ctx.procFs, NET_TABLES, tally),
    ctx.options.json ? readKernelCountersAsync(ctx.procFs) : null,
  ]);
  return countsDocument(ctx, result, counters);
}
