// The dashboard session's memory (bottom's store, htop's table): every snapshot goes through
// ingest once, and what one screen needs comes out as one immutable SessionState — the picture
// (snapshot, counts, counter rates, the diff, listener health, findings), the tracker (ages,
// tombstones), the history of state counts, markers and the environment (sysctls, backlogs).
// Pure: no clock (time is each snapshot's takenAtMs), no /proc, no terminal. Pause keeps a
// copy of the picture while ingest goes on; a replay jump resets the memory.

import type { ConnRate, RateTotals } from './conn-rates.js';
import type { UnixPeer } from './unix-peers.js';
import { EMPTY_RATE_HISTORY, appendRateHistory, type RateHistory } from './rate-history.js';
import { copyCounts, countByState, type CountsByGroup } from './aggregate.js';
import { FindingsEngine, type Finding } from './findings.js';
import { LiveAggregates } from './live-aggregates.js';
import { runInSlices, type SliceOptions } from './slices.js';
import {
  UNKNOWN_SYSCTLS,
  buildListenerRows,
  summarizeListenersByPort,
  type ListenerHealth,
  type NetSysctls,
  type PortListenerSummary,
} from './listener-health.js';
import { addMarker, nextMarkerName, type Marker } from './markers.js';
import { computeRates, type CounterRates } from './rates.js';
import { StateHistory } from './state-history.js';
import { TCP_STATES } from './state-info.js';
import { SocketTracker, type IngestPlan, type SnapshotDiff } from './tracker.js';
import type { Snapshot, SocketRecord, TcpState } from './types.js';

/** Machine facts that change slowly; read by the poller every few seconds. */
export interface SessionEnvironment {
  readonly sysctls: NetSysctls;
  /**
   * Listen backlog limits by endpointKey ("addr:port", from ss -ltn). null = no new reading:
   * the last known map is kept until a new one replaces it.
   */
  readonly backlogs: ReadonlyMap<string, number> | null;
}

/** A socket predicate with the text it was compiled from (the one filter of a screen). */
export interface ViewFilter {
  readonly text: string;
  readonly matches: (s: SocketRecord) => boolean;
}

/** Everything one snapshot says, with what the session worked out from it. Never mutated. */
export interface SessionPicture {
  readonly snapshot: Snapshot;
  /** Counts per protocol group and state of every socket read. */
  readonly counts: CountsByGroup;
  /** Counts under the filter given to ingest, or null without one. */
  readonly matched: { readonly filterText: string; readonly counts: CountsByGroup } | null;
  /** Kernel counter rates since the previous snapshot, per second (empty on the first). */
  readonly rates: CounterRates;
  /** What changed since the previous snapshot; null for the first of a session. */
  readonly diff: SnapshotDiff | null;
  readonly listeners: readonly ListenerHealth[];
  readonly listenerSummary: ReadonlyMap<number, PortListenerSummary>;
  /** Findings, the most severe first (including those kept by the hold-down). */
  readonly findings: readonly Finding[];
  /** Keys that changed for the same connection (inode → 0 on the way to TIME_WAIT): old → new. */
  readonly rekeyed: ReadonlyMap<string, string>;
  /** One line about what could not be read, or ''. */
  readonly notice: string;
}

export interface SessionState {
  /** The latest picture, or null before the first snapshot. */
  readonly live: SessionPicture | null;
  /** While paused: the picture taken when pausing (ingest goes on into `live`). */
  readonly frozen: SessionPicture | null;
  readonly paused: boolean;
  /** Ages, state changes, tombstones (read only by views). */
  readonly tracker: SocketTracker;
  /** Counts per TCP state, one sample per snapshot, of every socket. */
  readonly history: StateHistory;
  /** The same under the current filter, since it was set; null without a filter. */
  readonly filteredHistory: { readonly filterText: string; readonly history: StateHistory } | null;
  readonly markers: readonly Marker[];
  readonly environment: SessionEnvironment;
  /** Per-connection rates from ss (on their own cadence), or why there are none; null before the first read. */
  readonly connRates: SessionConnRates | null;
  /** The last rates of each connection with traffic (for the trend in details), one point per ss read. */
  readonly rateHistory: RateHistory;
  /** UNIX socket inode → its peer (from ss -xH, every few seconds), or null before the first read. */
  readonly unixPeers: ReadonlyMap<number, UnixPeer> | null;
  /** Incremented by every change, for caches keyed on the state. */
  readonly version: number;
}

/** What the last `ss -tinH` read gave: rates by socket key and their host total, or why not. */
export type SessionConnRates =
  | {
      readonly ok: true;
      readonly rates: ReadonlyMap<string, ConnRate>;
      readonly total: RateTotals;
      readonly asOfMs: number;
      /** Set when reads are spaced beyond the refresh by their CPU: ms between reads, and what a read costs (ss's and ours), ms. */
      readonly spaced?: { readonly everyMs: number; readonly cpuMs: number };
    }
  | { readonly ok: false; readonly message: string };

/** The picture a screen shows: the frozen copy while paused, else the live one. */
export function shownPicture(state: SessionState): SessionPicture | null {
  return state.paused ? (state.frozen ?? state.live) : state.live;
}

const HISTORY_CAPACITY = 600;

function tcpCounts(counts: CountsByGroup): Partial<Record<TcpState, number>> {
  const out: Partial<Record<TcpState, number>> = {};
  for (const s of TCP_STATES) {
    const n = counts.tcp[s];
    if (n !== undefined) out[s] = n;
  }
  return out;
}

function noticeOf(snapshot: Snapshot): string {
  if (snapshot.owners.enabled && snapshot.owners.unreadableProcesses > 0)
    return `owners of ${snapshot.owners.unreadableProcesses} processes unreadable: run as root`;
  if (snapshot.issues.skippedLines > 0) return `${snapshot.issues.skippedLines} unparsable lines skipped`;
  return '';
}

export interface SessionStoreOptions {
  /** A fresh findings engine (for tests with other rules or a shorter hold-down). */
  readonly createFindingsEngine?: () => FindingsEngine;
  readonly createTracker?: () => SocketTracker;
}

/**
 * Holds the session's mutable parts (the tracker and findings engine keep maps across
 * snapshots) behind one immutable SessionState that each call replaces.
 */
export class SessionStore {
  private engine: FindingsEngine;
  private current: SessionState;
  private filter: ViewFilter | null = null;
  /** Counts, listeners and the findings' aggregates, kept from the tracker's turnover. */
  private aggregates = new LiveAggregates();
  /** An ingest's slices are running (the aggregates are between two snapshots). */
  private ingesting = false;

  constructor(private readonly options: SessionStoreOptions = {}) {
    this.engine = options.createFindingsEngine?.() ?? new FindingsEngine();
    this.current = {
      live: null,
      frozen: null,
      paused: false,
      tracker: options.createTracker?.() ?? new SocketTracker(),
      history: new StateHistory(HISTORY_CAPACITY),
      filteredHistory: null,
      markers: [],
      environment: { sysctls: UNKNOWN_SYSCTLS, backlogs: null },
      connRates: null,
      rateHistory: EMPTY_RATE_HISTORY,
      unixPeers: null,
      version: 0,
    };
  }

  get state(): SessionState {
    return this.current;
  }

  /** How long a finding stays after its condition stopped holding (snapshot time, ms). */
  get holdDownMs(): number {
    return this.engine.options.holdDownMs;
  }

  private replace(next: Omit<SessionState, 'version'>): SessionState {
    this.current = { ...next, version: this.current.version + 1 };
    return this.current;
  }

  /** Take in one snapshot: the new session state. `environment`, when given, is set first. */
  ingest(snapshot: Snapshot, environment?: SessionEnvironment): SessionState {
    const steps = this.ingestSteps(snapshot, environment);
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    return step.value;
  }

  /**
   * ingest() in slices of about `slices.sliceMs` of this thread's time, awaiting `slices.pause()`
   * (setImmediate) between them, so keys are answered while a large snapshot goes in. Until it
   * resolves, `state` is the last complete one and everything a frame reads (the tracker, the
   * picture) is unchanged: the session changes in one synchronous step at the end. Resolves with
   * the new state and the time spent in slices (ms of `slices.clock`).
   */
  async ingestSliced(
    snapshot: Snapshot,
    slices: SliceOptions,
    environment?: SessionEnvironment,
  ): Promise<{ readonly state: SessionState; readonly busyMs: number }> {
    const { value, busyMs } = await runInSlices(this.ingestSteps(snapshot, environment), slices);
    return { state: value, busyMs };
  }

  /**
   * The ingest as steps: the tracker's plan and the aggregates (read-only for frames) in slices,
   * then the session's change in one step.
   */
  private *ingestSteps(snapshot: Snapshot, environment?: SessionEnvironment): Generator<void, SessionState> {
    if (environment !== undefined) this.setEnvironment(environment);
    const tracker = this.current.tracker;
    const aggregates = this.aggregates;
    this.ingesting = true;
    let plan: IngestPlan;
    let diff: SnapshotDiff;
    try {
      plan = yield* tracker.planIngest(snapshot);
      const turnover = { from: plan.from, to: snapshot, added: plan.arrived, removed: plan.left };
      // What changed since the last snapshot, not every socket again (see LiveAggregates).
      yield* aggregates.updateSteps(snapshot, turnover, this.current.environment.sysctls);
      // Reset, or another ingest, while the slices ran: this one starts over, whole.
      if (this.current.tracker !== tracker || this.aggregates !== aggregates || !tracker.isCurrent(plan)) {
        this.ingesting = false;
        return this.ingest(snapshot);
      }
      // The tracker's maps in steps too (a first snapshot of 100k sockets adds 100k entries).
      diff = yield* tracker.applyIngestSteps(plan);
    } finally {
      this.ingesting = false;
    }
    // Reset while the tracker's steps ran: the picture goes to the new session, whole.
    if (this.current.tracker !== tracker || this.aggregates !== aggregates) return this.ingest(snapshot);
    const s = this.current;
    const previous = s.live?.snapshot ?? null;
    const { sysctls, backlogs } = s.environment;
    const rates = previous === null ? {} : computeRates(previous.counters, snapshot.counters, snapshot.takenAtMs - previous.takenAtMs);
    const counts = copyCounts(aggregates.allCounts());
    s.history.push({ atMs: snapshot.takenAtMs, counts: tcpCounts(counts) });
    const f = this.filter;
    const matchedCounts = aggregates.matchedCounts();
    const matched = f === null || matchedCounts === null ? null : { filterText: f.text, counts: copyCounts(matchedCounts) };
    if (matched !== null && s.filteredHistory !== null)
      s.filteredHistory.history.push({ atMs: snapshot.takenAtMs, counts: tcpCounts(matched.counts) });
    const listeners = buildListenerRows(aggregates.tcpListeners(), aggregates.listenerConnections(), rates, sysctls, backlogs);
    const realDiff = previous === null ? null : diff;
    const findings = this.engine.update({
      snapshot,
      previous,
      diff: realDiff,
      rates,
      sysctls,
      listeners,
      aggregates: aggregates.findingAggregates(),
    });
    const rekeyed = new Map<string, string>();
    if (realDiff !== null) for (const c of realDiff.changed) if (c.before.key !== c.after.key) rekeyed.set(c.before.key, c.after.key);
    const live: SessionPicture = {
      snapshot,
      counts,
      matched,
      rates,
      diff: realDiff,
      listeners,
      listenerSummary: summarizeListenersByPort(listeners),
      findings,
      rekeyed,
      notice: noticeOf(snapshot),
    };
    return this.replace({ ...s, live });
  }

  /**
   * Sysctls and backlogs from the poller. A reading without backlogs (ss not answered yet, or
   * failed) keeps the last known ones: a listener's limit does not flip to the somaxconn
   * estimate and back every few seconds.
   */
  /** Rates of the last ss read (they arrive apart from snapshots, on their own cadence). */
  setConnRates(connRates: SessionConnRates): SessionState {
    const s = this.current;
    const rateHistory = connRates.ok ? appendRateHistory(s.rateHistory, connRates.rates, connRates.total, connRates.asOfMs) : s.rateHistory;
    return this.replace({ ...s, connRates, rateHistory });
  }

  setUnixPeers(unixPeers: ReadonlyMap<number, UnixPeer>): SessionState {
    return this.replace({ ...this.current, unixPeers });
  }

  setEnvironment(environment: SessionEnvironment): SessionState {
    const s = this.current;
    const backlogs = environment.backlogs ?? s.environment.backlogs;
    return this.replace({ ...s, environment: { sysctls: environment.sysctls, backlogs } });
  }

  /**
   * The screen's filter: counts under it are kept per snapshot from now on (the history chart
   * under a filter starts when the filter is set; the current counts are exact at once).
   */
  setFilter(filter: ViewFilter | null): SessionState {
    const s = this.current;
    if ((filter?.text ?? null) === (this.filter?.text ?? null)) return s;
    this.filter = filter;
    this.aggregates.setFilter(filter === null ? null : filter.matches);
    if (filter === null) {
      const live = s.live === null ? null : { ...s.live, matched: null };
      return this.replace({ ...s, live, filteredHistory: null });
    }
    const history = new StateHistory(HISTORY_CAPACITY);
    const live = s.live;
    let nextLive = live;
    if (live !== null) {
      const kept = this.ingesting ? null : this.aggregates.matchedCounts();
      const counts = kept === null ? countByState(live.snapshot.sockets.filter(filter.matches)) : copyCounts(kept);
      history.push({ atMs: live.snapshot.takenAtMs, counts: tcpCounts(counts) });
      nextLive = { ...live, matched: { filterText: filter.text, counts } };
    }
    return this.replace({ ...s, live: nextLive, filteredHistory: { filterText: filter.text, history } });
  }

  /** Pause keeps a copy of the picture; resume drops it. */
  setPaused(paused: boolean): SessionState {
    const s = this.current;
    if (paused === s.paused) return s;
    return this.replace({ ...s, paused, frozen: paused ? s.live : null });
  }

  /** While paused, show the latest picture anyway (a replay stepping frame by frame). */
  showLatest(): SessionState {
    const s = this.current;
    return s.paused ? this.replace({ ...s, frozen: s.live }) : s;
  }

  /**
   * Drop a named marker on the picture shown (an empty name gets the next automatic one), under
   * the screen's filter: view 7 then compares the same sockets.
   */
  addMarker(name: string): SessionState {
    const s = this.current;
    const picture = shownPicture(s);
    if (picture === null) return s;
    const n = name.trim() === '' ? nextMarkerName(s.markers) : name.trim().slice(0, 60);
    return this.replace({ ...s, markers: addMarker(s.markers, n, picture.snapshot, {}, this.filter) });
  }

  /**
   * Forget the memory (ages, tombstones, history, findings): a replay that jumps does not
   * continue the previous frame, so diffs across the jump would be wrong. Markers, the
   * environment and the pause stay.
   */
  reset(): SessionState {
    const s = this.current;
    this.engine = this.options.createFindingsEngine?.() ?? new FindingsEngine();
    this.aggregates = new LiveAggregates();
    this.aggregates.setFilter(this.filter === null ? null : this.filter.matches);
    const filtered = this.filter === null ? null : { filterText: this.filter.text, history: new StateHistory(HISTORY_CAPACITY) };
    return this.replace({
      ...s,
      live: null,
      frozen: null,
      tracker: this.options.createTracker?.() ?? new SocketTracker(),
      history: new StateHistory(HISTORY_CAPACITY),
      filteredHistory: filtered,
      rateHistory: EMPTY_RATE_HISTORY,
    });
  }

  /** Follow one socket's queue sizes for the details pane (null stops). */
  watch(key: string | null): void {
    this.current.tracker.watch(key);
  }

  /** Objects held, for soak tests. */
  stats(): { tracker: ReturnType<SocketTracker['size']>; history: number } {
    return { tracker: this.current.tracker.size(), history: this.current.history.length };
  }
}
