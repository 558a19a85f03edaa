// `--once --summary` without a filter: counts per protocol and state from the state column of
// each table, no socket records. Kept apart from run-once.ts (owners, ss, the table and JSON
// formatters) so that this mode, whose cost is mostly node's start-up and the kernel's, loads
// only what it uses.

import { readKernelCounters } from '../proc/collect-snapshot.js';
import { collectStateCountsAsync } from '../proc/collect-counts.js';
import type { AppContext } from './context.js';
import { formatSummary, stringifyForTerminal } from './format-counts.js';

/** Whether `--once` here needs only counts (a summary of this machine's or a tree's tables, nothing filtered). */
export function isCountsOnly(ctx: AppContext): boolean {
  return ctx.options.summary && ctx.filter === null && ctx.remote == null;
}

/** --once --summary without a filter, or null when the options need socket records (see isCountsOnly). */
export function runCountsOnly(ctx: AppContext): Promise<number> | null {
  return isCountsOnly(ctx) ? runFastSummary(ctx) : null;
}

async function runFastSummary(ctx: AppContext): Promise<number> {
  const { counts, files, unreadable } = await collectStateCountsAsync(ctx.procFs);
  const { services } = ctx;
  if (ctx.options.json) {
    services.stdout.write(
      `${stringifyForTerminal({
        takenAt: new Date(services.now()).toISOString(),
        host: services.hostname(),
        filter: null,
        counts,
        totals: counts,
        counters: readKernelCounters(ctx.procFs),
        skippedLines: Object.values(files).reduce((a, b) => a + b, 0),
        warnings: [],
        sockets: [],
      })}\n`,
    );
  } else services.stdout.write(`${formatSummary(counts)}\n`);
  for (const [file, n] of Object.entries(files))
    services.stderr.write(`sockscope: skipped ${n} line${n === 1 ? '' : 's'} of ${file} that did not parse\n`);
  for (const [file, why] of Object.entries(unreadable)) services.stderr.write(`sockscope: cannot read ${file}: ${why}\n`);
  return 0;
}
