// Per-second rates of kernel counters between two snapshots (/proc/net/snmp, /proc/net/netstat).

import type { KernelCounters } from './types.js';

/** The counters people ask about first, with a short label for headers. */
export const HEADLINE_COUNTERS = [
  { key: 'Tcp.ActiveOpens', label: 'out' },
  { key: 'Tcp.PassiveOpens', label: 'in' },
  { key: 'Tcp.AttemptFails', label: 'fail' },
  { key: 'Tcp.EstabResets', label: 'reset' },
  { key: 'Tcp.OutRsts', label: 'rst-out' },
  { key: 'Tcp.RetransSegs', label: 'retrans' },
  { key: 'Tcp.InErrs', label: 'in-err' },
  { key: 'TcpExt.ListenOverflows', label: 'overflow' },
  { key: 'TcpExt.ListenDrops', label: 'drop' },
  { key: 'TcpExt.TCPTimeouts', label: 'timeout' },
] as const;

export type CounterRates = Readonly<Record<string, number>>;

/**
 * Per-second rate of every counter present in both maps. Counters that went backwards
 * (a namespace reset, a wrap) give 0 rather than a negative rate. Empty when intervalMs <= 0.
 */
export function computeRates(prev: KernelCounters, next: KernelCounters, intervalMs: number): CounterRates {
  const rates: Record<string, number> = {};
  if (intervalMs <= 0) return rates;
  for (const [key, value] of Object.entries(next)) {
    const before = prev[key];
    if (before === undefined) continue;
    const delta = value - before;
    rates[key] = delta > 0 ? (delta * 1000) / intervalMs : 0;
  }
  return rates;
}
