// A short trend per connection (and for the host) for sparklines in details: the last N rates,
// oldest first. Pure: each call returns a new map holding only the keys still present.

import type { ConnRate, RateTotals } from './conn-rates.js';

export interface RateHistory {
  /** Socket key → bytes/s (sent + received) of the last reads, oldest first. */
  readonly perConnection: ReadonlyMap<string, readonly number[]>;
  /** Host bytes/s (sent + received), oldest first. */
  readonly host: readonly number[];
  /** asOfMs of the last read appended: a read is appended once, however often it is shown. */
  readonly lastAsOfMs: number | null;
}

export const EMPTY_RATE_HISTORY: RateHistory = { perConnection: new Map(), host: [], lastAsOfMs: null };

/** Append one read's rates (connections without a rate yet are skipped), keeping `maxPoints`. */
export function appendRateHistory(
  prev: RateHistory,
  rates: ReadonlyMap<string, ConnRate>,
  total: RateTotals,
  asOfMs: number,
  maxPoints = 60,
): RateHistory {
  if (prev.lastAsOfMs === asOfMs) return prev;
  const perConnection = new Map<string, readonly number[]>();
  for (const [key, r] of rates) {
    if (r.sendBytesPerSec === null) continue;
    const before = prev.perConnection.get(key) ?? [];
    perConnection.set(key, [...before.slice(Math.max(0, before.length - maxPoints + 1)), r.sendBytesPerSec + (r.recvBytesPerSec ?? 0)]);
  }
  const host = [...prev.host.slice(Math.max(0, prev.host.length - maxPoints + 1)), total.sendBytesPerSec + total.recvBytesPerSec];
  return { perConnection, host, lastAsOfMs: asOfMs };
}
