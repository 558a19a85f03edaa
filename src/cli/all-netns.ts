// `--all-netns --once`: one row per network namespace on the machine (containers, pods), with
// its sockets per protocol and TCP state, as an aligned table or one JSON document.
// Presenters are pure; runAllNetns does the reading through the proc layer and prints.

import { totalOf, type StateCounts } from '../model/aggregate.js';
import { safeText } from '../model/safe-text.js';
import { stringifyForTerminal } from './format-counts.js';
import type { TcpState } from '../model/types.js';
import type { AppContext } from './context.js';
import { collectNetnsCounts, listNetworkNamespaces, type NetnsCounts } from '../proc/netns.js';

/** TCP columns: one state each, or several states summed. */
const TCP_COLUMNS: readonly (readonly [string, readonly TcpState[]])[] = [
  ['ESTAB', ['ESTABLISHED']],
  ['LISTEN', ['LISTEN']],
  ['TIME-WAIT', ['TIME_WAIT']],
  ['CLOSE-WAIT', ['CLOSE_WAIT']],
  ['SYN-SENT', ['SYN_SENT']],
  ['SYN-RECV', ['SYN_RECV', 'NEW_SYN_RECV']],
  ['FIN-WAIT', ['FIN_WAIT1', 'FIN_WAIT2']],
  ['OTHER', ['LAST_ACK', 'CLOSING', 'CLOSE']],
];

function sumStates(counts: StateCounts, states: readonly TcpState[]): number {
  let n = 0;
  for (const s of states) n += counts[s] ?? 0;
  return n;
}

const HEADERS = ['NETNS', 'PID', 'PROCESS', 'PROCS', 'TCP', ...TCP_COLUMNS.map(([h]) => h), 'UDP', 'RAW', 'UNIX'];
/** Left-aligned columns: NETNS and PROCESS; numbers are right-aligned. */
const LEFT = new Set([0, 2]);

/** The aligned table; sockscope's own namespace is marked with "*". */
export function formatNetnsTable(rows: readonly NetnsCounts[]): string {
  const cells: string[][] = [HEADERS];
  for (const r of rows) {
    const { tcp, udp, raw, unix } = r.counts;
    cells.push([
      `${r.netns.id}${r.netns.current ? ' *' : ''}`,
      String(r.pid),
      safeText(r.command, 24),
      String(r.netns.pids.length),
      String(totalOf(tcp)),
      ...TCP_COLUMNS.map(([, states]) => String(sumStates(tcp, states))),
      String(totalOf(udp)),
      String(totalOf(raw)),
      String(totalOf(unix)),
    ]);
  }
  const widths = HEADERS.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const lines = cells.map((row) =>
    row
      .map((cell, i) => (LEFT.has(i) ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  if (rows.some((r) => r.netns.current)) lines.push('* the namespace sockscope runs in');
  return lines.join('\n');
}

export interface NetnsJsonInput {
  readonly takenAtMs: number;
  readonly host: string;
  readonly rows: readonly NetnsCounts[];
  readonly unreadableProcesses: number;
  readonly warnings: readonly string[];
}

/** One JSON document: stable field names for scripts. */
export function formatNetnsJson(input: NetnsJsonInput): string {
  // Process names are untrusted: no DEL/C1/bidi control may reach a terminal raw.
  return stringifyForTerminal({
    takenAt: new Date(input.takenAtMs).toISOString(),
    host: input.host,
    namespaces: input.rows.map((r) => ({
      netns: r.netns.id,
      inode: r.netns.inode,
      pid: r.pid,
      process: r.command,
      processes: r.netns.pids.length,
      current: r.netns.current,
      totals: { tcp: totalOf(r.counts.tcp), udp: totalOf(r.counts.udp), raw: totalOf(r.counts.raw), unix: totalOf(r.counts.unix) },
      counts: r.counts,
    })),
    unreadableProcesses: input.unreadableProcesses,
    warnings: input.warnings,
  });
}

/** Hints for stderr (and the JSON document). */
export function netnsWarnings(unreadableProcesses: number, rows: readonly NetnsCounts[]): string[] {
  const warnings: string[] = [];
  if (unreadableProcesses > 0) {
    warnings.push(
      `the network namespace of ${unreadableProcesses} process${unreadableProcesses === 1 ? '' : 'es'} could not be read (not root?): namespaces only they live in are missing`,
    );
  }
  for (const r of rows) {
    for (const [file, n] of Object.entries(r.skipped))
      warnings.push(`skipped ${n} line${n === 1 ? '' : 's'} of ${file} in ${r.netns.id} that did not parse`);
  }
  return warnings;
}

/** `--all-netns --once [--json]`. Returns the exit code. */
export function runAllNetns(ctx: AppContext): number {
  const { services, procFs } = ctx;
  const takenAtMs = services.now();
  const listing = listNetworkNamespaces(procFs);
  if (listing.namespaces.length === 0) {
    services.stderr.write(`sockscope: no network namespace found: no ${procFs.root}/<pid>/ns/net link could be read\n`);
    return 1;
  }
  const rows = collectNetnsCounts(procFs, listing);
  const warnings = netnsWarnings(listing.unreadableProcesses, rows);
  const text = ctx.options.json
    ? formatNetnsJson({ takenAtMs, host: services.hostname(), rows, unreadableProcesses: listing.unreadableProcesses, warnings })
    : formatNetnsTable(rows);
  services.stdout.write(`${text}\n`);
  for (const w of warnings) services.stderr.write(`sockscope: ${w}\n`);
  return 0;
}
