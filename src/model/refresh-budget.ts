// How often the dashboard can afford to refresh: the poller's back-off, budgeting the CPU time of
// the whole process (every thread: main, libuv's pool reading /proc/net, the owner worker, GC)
// per refresh, and saying why the interval is what it is. Pure: costs in, interval out.

/** Share of one core that refreshing may take, all threads together. */
export const MAX_REFRESH_CORE_SHARE = 0.5;

/** Longest interval the back-off stretches to, ms. */
export const MAX_BACKED_OFF_MS = 30_000;

export interface RefreshBudget {
  /** Interval to wait before the next refresh starts, ms (>= the chosen one). */
  readonly intervalMs: number;
  /** True when the chosen interval was stretched. */
  readonly backedOff: boolean;
  /**
   * Why, in a few words for the header: '' when the chosen interval holds, else e.g.
   * "a refresh costs 0.62 s cpu (max 50% of a core)".
   */
  readonly reason: string;
}

/**
 * The interval for the next refresh. `cpuMsPerRefresh`: CPU time of the whole process during one
 * refresh, ms (process.cpuUsage() delta from the start of collection to the drawn frame). The
 * interval is stretched, in 250 ms steps, so that refreshing takes at most `maxCoreShare` of a
 * core; capped at MAX_BACKED_OFF_MS.
 */
export function budgetRefreshInterval(
  chosenMs: number,
  cpuMsPerRefresh: number,
  maxCoreShare: number = MAX_REFRESH_CORE_SHARE,
): RefreshBudget {
  const neededMs = cpuMsPerRefresh / maxCoreShare;
  if (!(neededMs > chosenMs)) return { intervalMs: chosenMs, backedOff: false, reason: '' };
  const intervalMs = Math.min(MAX_BACKED_OFF_MS, Math.ceil(neededMs / 250) * 250);
  const cpuS = (cpuMsPerRefresh / 1000).toFixed(2);
  return {
    intervalMs,
    backedOff: true,
    reason: `a refresh costs ${cpuS} s cpu (max ${Math.round(maxCoreShare * 100)}% of a core)`,
  };
}
