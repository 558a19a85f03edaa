// Findings rule: A burst of TCP resets compared with the recent rate.

import type { FindingThresholds } from '../thresholds.js';
import type { FindingRule, FindingsInput } from '../types.js';
import { aggregatesOf, isTcp, fmt, topKey } from './shared.js';

/** Connections that vanished straight from ESTABLISHED (a reset or an abort, not an orderly close), by port. */
function abruptCloses(input: FindingsInput): { key: string; port: number; count: number } | null {
  if (input.diff === null || input.diff.intervalMs <= 0) return null;
  // The service side by listened address and port, as the by-port view (the listeners of this snapshot).
  const listening = aggregatesOf(input).listening;
  const counts = new Map<string, number>();
  for (const s of input.diff.closed) {
    if (s.state !== 'ESTABLISHED' || !isTcp(s)) continue;
    const key = listening.covers(s) ? `sport ${s.localPort}` : `dport ${s.remotePort}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = topKey(counts);
  return top === null ? null : { key: top.key, port: Number(top.key.slice(6)), count: top.count };
}

export function resetRule(t: FindingThresholds['resets']): FindingRule<number | null> {
  return {
    id: 'reset-burst',
    summarize(input) {
      const a = input.rates['Tcp.EstabResets'];
      const b = input.rates['Tcp.OutRsts'];
      return a === undefined && b === undefined ? null : (a ?? 0) + (b ?? 0);
    },
    evaluate(input, history) {
      const now = history[history.length - 1];
      if (now === undefined || now === null) return [];
      const previous = history
        .slice(0, -1)
        .filter((v): v is number => v !== null)
        .slice(-t.baselineSamples);
      const baseline = previous.length >= 3 ? previous.reduce((a, b) => a + b, 0) / previous.length : null;
      const jump = baseline !== null && now >= t.jumpMinPerSec && now >= t.jumpFactor * Math.max(baseline, 0.1);
      if (now < t.perSec && !jump) return [];
      const estab = input.rates['Tcp.EstabResets'] ?? 0;
      const out = input.rates['Tcp.OutRsts'] ?? 0;
      const where = abruptCloses(input);
      const vs = baseline === null ? '' : ` (recent average ${fmt(baseline)}/s)`;
      return [
        {
          key: 'machine',
          severity: now >= t.critPerSec ? 'crit' : 'warn',
          title: `Burst of TCP resets: ${fmt(now)}/s`,
          detail:
            `Tcp.EstabResets ${fmt(estab)}/s (established connections reset) + Tcp.OutRsts ${fmt(out)}/s (resets sent) = ${fmt(now)}/s${vs}. ` +
            `Resets come from connections to closed ports, applications that abort (close with unread data, SO_LINGER 0), ` +
            `crashed peers or middleboxes dropping idle connections. These counters are machine-wide.` +
            (where === null
              ? ''
              : ` ${where.count} connection${where.count === 1 ? '' : 's'} vanished straight from ESTABLISHED on ${where.key.startsWith('sport') ? 'port' : 'remote port'} ${where.port} since the last refresh.`),
          subject: where === null ? {} : { port: where.port },
          filter: where === null ? 'tcp' : where.key,
        },
      ];
    },
  };
}
