// Findings rule: CLOSE_WAIT that the application does not close (rising, stuck, or a pile that stays).

import { formatDuration } from '../../duration.js';
import type { FindingThresholds } from '../thresholds.js';
import { bySeverity, type FindingRule, type RawFinding } from '../types.js';
import { proc, topOwner, describeOwners, ownerSubject, type PortGroup, aggregatesOf, topKey, groupPlace } from './shared.js';

/**
 * CLOSE_WAIT per group key, for groups with at least one socket (at most 64 groups): the count,
 * and since when (snapshot takenAtMs) the group has held at least minCount sockets in every
 * snapshot without a break (null while below minCount).
 */
type CloseWaitSummary = ReadonlyMap<string, { readonly count: number; readonly pileSinceMs: number | null }>;

function summarizeCloseWait(
  groups: ReadonlyMap<string, PortGroup>,
  nowMs: number,
  previous: CloseWaitSummary | undefined,
  minCount: number,
  max = 64,
): CloseWaitSummary {
  const list = [...groups.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, max);
  return new Map(
    list.map((g) => {
      const before = previous?.get(g.key);
      const pileSinceMs = g.count < minCount ? null : (before?.pileSinceMs ?? nowMs);
      return [g.key, { count: g.count, pileSinceMs }];
    }),
  );
}

/** true when series[end-n+1 .. end] never falls and ends higher than it starts. */
function risingAt(series: readonly number[], end: number, n: number): boolean {
  const start = end - n + 1;
  if (start < 0 || n < 2) return false;
  for (let i = start + 1; i <= end; i++) if ((series[i] as number) < (series[i - 1] as number)) return false;
  return (series[end] as number) > (series[start] as number);
}

/**
 * CLOSE_WAIT that the application does not close: reported when a group (service port or remote
 * port) holds at least minCount sockets and either grew over the last risingSamples snapshots
 * ("rising"), grew earlier in the remembered window and has not fallen below minCount since
 * ("stuck"), or has held at least minCount in every snapshot for steadyMs ("a pile that stays":
 * a leak that happened before sockscope started, or one that leaks as fast as it closes).
 * The title says which of the three it is, in the same words as the detail.
 */
export function closeWaitRule(t: FindingThresholds['closeWait']): FindingRule<CloseWaitSummary> {
  return {
    id: 'close-wait-rising',
    summarize: (input, history) =>
      summarizeCloseWait(aggregatesOf(input).groupsOf('CLOSE_WAIT'), input.snapshot.takenAtMs, history[history.length - 1], t.minCount),
    evaluate(input, history) {
      const out: RawFinding[] = [];
      const nowMs = input.snapshot.takenAtMs;
      const groups = aggregatesOf(input).groupsOf('CLOSE_WAIT');
      for (const g of groups.values()) {
        if (g.count < t.minCount) continue;
        const series = history.map((h) => h.get(g.key)?.count ?? 0);
        const last = series.length - 1;
        const growingNow = risingAt(series, last, t.risingSamples);
        // Once it has been seen growing within the remembered window, a plateau still counts
        // (sockets the application never closed stay leaked), as long as the count has not
        // fallen below the threshold since.
        let grewAt = -1;
        for (let i = last; i >= 0 && grewAt < 0 && (series[i] as number) >= t.minCount; i--)
          if (risingAt(series, i, t.risingSamples)) grewAt = i;
        const pileSinceMs = history[last]?.get(g.key)?.pileSinceMs ?? null;
        const pileMs = pileSinceMs === null ? 0 : nowMs - pileSinceMs;
        const staying = pileSinceMs !== null && pileMs >= t.steadyMs;
        if (grewAt < 0 && !staying) continue;
        const top = topOwner(g.owners);
        const who = top === null ? 'The application' : `${proc(top.command)} (pid ${top.pid})`;
        const place = groupPlace(g);
        let title: string;
        let trend: string;
        if (growingNow) {
          const first = series[Math.max(0, grewAt - t.risingSamples + 1)] ?? 0;
          title = `CLOSE_WAIT rising on ${place}, ${first} → ${g.count}`;
          trend = `grew from ${first} to ${g.count} over the last ${t.risingSamples} refreshes`;
        } else if (staying) {
          title = `CLOSE_WAIT pile of ${g.count} staying on ${place} for ${formatDuration(pileMs)}`;
          trend = `at least ${t.minCount} in every refresh for ${formatDuration(pileMs)}, ${g.count} now`;
        } else {
          title = `CLOSE_WAIT still at ${g.count} on ${place}`;
          trend = `grew earlier and is still at ${g.count}`;
        }
        const peer = g.side === 'remote' ? topKey(g.peers) : null;
        out.push({
          key: g.key,
          severity: g.count >= t.critCount ? 'crit' : 'warn',
          title: `${title}: ${who} is not closing sockets`,
          detail:
            `${g.count} connections on ${place} are in CLOSE_WAIT (${trend}): the peer has closed its end, ` +
            `and the application has not called close(). CLOSE_WAIT never times out, so each one leaks a file descriptor ` +
            `until the process closes it or exits. ${describeOwners(g.owners, 'sockets')} ` +
            `Look for a code path that returns without closing the connection (errors, timeouts, a read that sees EOF).`,
          subject: { port: g.port, ...ownerSubject(g.owners), ...(peer === null ? {} : { peer: peer.key }) },
          filter: `state close-wait and ${g.key}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}
