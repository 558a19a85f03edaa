// A short trend per connection (and for the host) for sparklines in details: the last N rates
// read from ss (tcp_info deltas, bytes/s), oldest first. Pure: each call returns a new history
// holding only the connections still present.
//
// Cost: a connection enters the history on its first read with traffic and leaves once its
// whole window is zero again, so thousands of idle connections cost nothing per read; at most
// `maxConnections` are kept (those already kept first), so 100k busy connections cost a bounded
// copy per read (measured: 100k connections all busy, ~0.5 s cpu a read unbounded).

import { ConnRateTable, type ConnRate, type RateTotals } from './conn-rates.js';

/** The last rates of one connection, oldest first, one point per ss read (same length). */
export interface RateTrend {
  /** bytes_acked deltas: bytes/s the peer confirmed receiving from us. */
  readonly sendBytesPerSec: readonly number[];
  /** bytes_received deltas: bytes/s received. */
  readonly recvBytesPerSec: readonly number[];
}

export interface RateHistory {
  /** Socket key → its trend; only connections with traffic somewhere in the window. */
  readonly perConnection: ReadonlyMap<string, RateTrend>;
  /** Host bytes/s (sent + received), oldest first. */
  readonly host: readonly number[];
  /** asOfMs of the last read appended: a read is appended once, however often it is shown. */
  readonly lastAsOfMs: number | null;
}

export const EMPTY_RATE_HISTORY: RateHistory = { perConnection: new Map(), host: [], lastAsOfMs: null };

/** Points kept per connection by default: a minute at one read a second. */
const RATE_HISTORY_POINTS = 60;
/** Connections kept by default: the busy ones a details pane may show, bounded. */
const RATE_HISTORY_CONNECTIONS = 2000;

const appendKept = (before: readonly number[], value: number, maxPoints: number): number[] => [
  ...before.slice(Math.max(0, before.length - maxPoints + 1)),
  value,
];

/** Append one read's rates (connections without a rate yet are skipped), keeping `maxPoints`. */
export function appendRateHistory(
  prev: RateHistory,
  rates: ReadonlyMap<string, ConnRate>,
  total: RateTotals,
  asOfMs: number,
  maxPoints = RATE_HISTORY_POINTS,
  maxConnections = RATE_HISTORY_CONNECTIONS,
): RateHistory {
  if (prev.lastAsOfMs === asOfMs) return prev;
  if (rates instanceof ConnRateTable) return appendFromTable(prev, rates, total, asOfMs, maxPoints, maxConnections);
  const perConnection = new Map<string, RateTrend>();
  // Connections already kept go on first (their trend continues); new ones fill the room left.
  const newcomers: [string, number, number][] = [];
  for (const [key, r] of rates) {
    if (r.sendBytesPerSec === null && r.recvBytesPerSec === null) continue;
    const sent = r.sendBytesPerSec ?? 0;
    const received = r.recvBytesPerSec ?? 0;
    const before = prev.perConnection.get(key);
    if (before === undefined) {
      if ((sent > 0 || received > 0) && newcomers.length < maxConnections) newcomers.push([key, sent, received]);
      continue;
    }
    const trend = {
      sendBytesPerSec: appendKept(before.sendBytesPerSec, sent, maxPoints),
      recvBytesPerSec: appendKept(before.recvBytesPerSec, received, maxPoints),
    };
    if (trend.sendBytesPerSec.some((v) => v > 0) || trend.recvBytesPerSec.some((v) => v > 0)) perConnection.set(key, trend);
  }
  for (const [key, sent, received] of newcomers) {
    if (perConnection.size >= maxConnections) break;
    perConnection.set(key, { sendBytesPerSec: [sent], recvBytesPerSec: [received] });
  }
  const host = appendKept(prev.host, total.sendBytesPerSec + total.recvBytesPerSec, maxPoints);
  return { perConnection, host, lastAsOfMs: asOfMs };
}

/**
 * appendRateHistory from a read's columns: the connections kept continue (looked up one by one),
 * then the busy slots fill the room left, in order; the other connections are not touched (at
 * 100k connections, one pass over a typed column instead of a map lookup each).
 */
function appendFromTable(
  prev: RateHistory,
  rates: ConnRateTable,
  total: RateTotals,
  asOfMs: number,
  maxPoints: number,
  maxConnections: number,
): RateHistory {
  const perConnection = new Map<string, RateTrend>();
  const { sendBytesPerSec: sendColumn, recvBytesPerSec: recvColumn } = rates.columns;
  for (const [key, before] of prev.perConnection) {
    const slot = rates.slotOf(key);
    if (slot < 0) continue;
    const sendRate = sendColumn[slot]!;
    const recvRate = recvColumn[slot]!;
    if (Number.isNaN(sendRate) && Number.isNaN(recvRate)) continue;
    const trend = {
      sendBytesPerSec: appendKept(before.sendBytesPerSec, Number.isNaN(sendRate) ? 0 : sendRate, maxPoints),
      recvBytesPerSec: appendKept(before.recvBytesPerSec, Number.isNaN(recvRate) ? 0 : recvRate, maxPoints),
    };
    if (trend.sendBytesPerSec.some((v) => v > 0) || trend.recvBytesPerSec.some((v) => v > 0)) perConnection.set(key, trend);
  }
  const slots = rates.size;
  for (let slot = 0; slot < slots && perConnection.size < maxConnections; slot++) {
    // NaN (no rate yet) is not > 0.
    const sent = sendColumn[slot]!;
    const received = recvColumn[slot]!;
    if (!(sent > 0) && !(received > 0)) continue;
    const key = rates.keyOfSlot[slot]!;
    if (prev.perConnection.has(key)) continue;
    perConnection.set(key, { sendBytesPerSec: [sent > 0 ? sent : 0], recvBytesPerSec: [received > 0 ? received : 0] });
  }
  const host = appendKept(prev.host, total.sendBytesPerSec + total.recvBytesPerSec, maxPoints);
  return { perConnection, host, lastAsOfMs: asOfMs };
}
