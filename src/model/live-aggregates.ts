// What the session store works out over every socket, kept up to date from the tracker's
// turnover (the record objects that left and arrived since the last snapshot) instead of
// recomputed over 100k records per refresh: counts per protocol group and state (all, and under
// the screen's filter), where the host listens, the TCP listeners with their connections per
// endpoint, and the findings rules' aggregates. A refresh costs what changed; when the listened
// endpoints or the ephemeral port range change (rare), the parts that depend on them are
// counted again over the snapshot. Pure.

import { ListeningEndpointCounts, adjustCount, countByState, type CountsByGroup } from './aggregate.js';
import { FindingAggregates, ephemeralRangeOf } from './findings/aggregates.js';
import { DEFAULT_EPHEMERAL_RANGE } from './findings/thresholds.js';
import { ListenerConnections, type NetSysctls } from './listener-health.js';
import type { RecordTurnover } from './tracker.js';
import type { Snapshot, SocketRecord } from './types.js';

const isTcpListener = (s: SocketRecord): boolean => (s.protocol === 'tcp' || s.protocol === 'tcp6') && s.state === 'LISTEN';

export class LiveAggregates {
  /** The snapshot these aggregates describe (null before the first). */
  private snapshot: Snapshot | null = null;
  private counts: CountsByGroup = countByState([]);
  private matches: ((s: SocketRecord) => boolean) | null = null;
  private matched: CountsByGroup | null = null;
  private readonly listening = new ListeningEndpointCounts();
  private readonly listeners = new Set<SocketRecord>();
  private readonly connections = new ListenerConnections();
  private findings = new FindingAggregates(this.listening, DEFAULT_EPHEMERAL_RANGE);
  /** An updateSteps is under way (its slices not all run). */
  private updating = false;
  /** setFilter was called meanwhile: the counts under the filter are made at the end. */
  private filterChanged = false;
  /** How many updates counted the connections over the whole snapshot again (tests). */
  fullRecounts = 0;

  /**
   * Bring the aggregates from the last snapshot to `snapshot`. `turnover` is the tracker's
   * (SocketTracker#lastTurnover) for exactly this step; anything else (the first snapshot, a
   * reset) counts `snapshot` from scratch.
   */
  update(snapshot: Snapshot, turnover: RecordTurnover | null, sysctls: NetSysctls): void {
    const steps = this.updateSteps(snapshot, turnover, sysctls);
    while (steps.next().done !== true);
  }

  /**
   * update() as a generator that yields every `sliceRecords` sockets, so that a caller can let the
   * event loop run between slices. The aggregates are only consistent again when it is done (the
   * session's pictures hold copies, never these objects); setFilter meanwhile is applied at the end.
   */
  *updateSteps(
    snapshot: Snapshot,
    turnover: Pick<RecordTurnover, 'from' | 'to' | 'added' | 'removed'> | null,
    sysctls: NetSysctls,
    sliceRecords = 8192,
  ): Generator<void, void> {
    this.updating = true;
    this.filterChanged = false;
    try {
      yield* this.updateInSlices(snapshot, turnover, sysctls, sliceRecords);
    } finally {
      this.updating = false;
    }
    if (this.filterChanged) this.setFilter(this.matches);
  }

  private *updateInSlices(
    snapshot: Snapshot,
    turnover: Pick<RecordTurnover, 'from' | 'to' | 'added' | 'removed'> | null,
    sysctls: NetSysctls,
    sliceRecords: number,
  ): Generator<void, void> {
    const range = ephemeralRangeOf(sysctls);
    const sameRange = range.low === this.findings.ephemeralRange.low && range.high === this.findings.ephemeralRange.high;
    if (turnover === null || this.snapshot === null || turnover.from !== this.snapshot || turnover.to !== snapshot) {
      yield* this.recount(snapshot, sysctls, sliceRecords);
      return;
    }
    // Listeners first, arrivals before departures: a listener whose line changed (the same
    // endpoint, a new record) never looks like an endpoint going away.
    let endpointsChanged = false;
    for (const s of turnover.added) {
      if (s.state !== 'LISTEN' && s.state !== 'UNCONN') continue;
      if (this.listening.add(s)) endpointsChanged = true;
      if (this.connections.addListener(s)) endpointsChanged = true;
      if (isTcpListener(s)) this.listeners.add(s);
    }
    for (const s of turnover.removed) {
      if (s.state !== 'LISTEN' && s.state !== 'UNCONN') continue;
      if (this.listening.remove(s)) endpointsChanged = true;
      if (this.connections.removeListener(s)) endpointsChanged = true;
      this.listeners.delete(s);
    }
    this.snapshot = snapshot;
    const recountConnections = endpointsChanged || !sameRange;
    if (recountConnections) this.findings = new FindingAggregates(this.listening, range);
    // Indexed, not for…of: in this generator the array iterators' results were allocated, one per
    // record (~0.5 MB a refresh at 100k sockets in an allocation profile).
    const { removed, added } = turnover;
    let n = 0;
    for (let i = 0; i < removed.length; i++) {
      this.take(removed[i] as SocketRecord, -1, !recountConnections);
      if (++n % sliceRecords === 0) yield;
    }
    for (let i = 0; i < added.length; i++) {
      this.take(added[i] as SocketRecord, 1, !recountConnections);
      if (++n % sliceRecords === 0) yield;
    }
    if (recountConnections) yield* this.recountConnections(snapshot, sliceRecords);
  }

  /** One socket less (-1) or more (1) in the counts and, unless they are recounted, the rest. */
  private take(s: SocketRecord, delta: 1 | -1, connections: boolean): void {
    adjustCount(this.counts, s, delta);
    const matches = this.matches;
    if (matches !== null && this.matched !== null && matches(s)) adjustCount(this.matched, s, delta);
    if (!connections) return;
    if (delta < 0) this.findings.remove(s);
    else this.findings.add(s);
    this.connections.countConnection(s, delta);
  }

  /** Everything from scratch over `snapshot` (the full recomputation). */
  private *recount(snapshot: Snapshot, sysctls: NetSysctls, sliceRecords: number): Generator<void, void> {
    this.snapshot = snapshot;
    this.counts = countByState([]);
    this.matched = this.matches === null ? null : countByState([]);
    this.listening.clear();
    this.listeners.clear();
    this.connections.reset();
    for (const s of snapshot.sockets) {
      this.listening.add(s);
      if (!isTcpListener(s)) continue;
      this.listeners.add(s);
      this.connections.addListener(s);
    }
    this.findings = new FindingAggregates(this.listening, ephemeralRangeOf(sysctls));
    yield;
    const sockets = snapshot.sockets;
    for (let i = 0; i < sockets.length; i++) {
      this.take(sockets[i] as SocketRecord, 1, true);
      if (i % sliceRecords === sliceRecords - 1) yield;
    }
    this.fullRecounts++;
  }

  /** The parts that depend on the listened endpoints and the ephemeral range. */
  private *recountConnections(snapshot: Snapshot, sliceRecords: number): Generator<void, void> {
    this.fullRecounts++;
    this.connections.clearConnections();
    const sockets = snapshot.sockets;
    for (let i = 0; i < sockets.length; i++) {
      const s = sockets[i] as SocketRecord;
      this.findings.add(s);
      this.connections.countConnection(s, 1);
      if (i % sliceRecords === sliceRecords - 1) yield;
    }
  }

  /** The screen's filter: counts under it from now on (null: none). */
  setFilter(matches: ((s: SocketRecord) => boolean) | null): void {
    this.matches = matches;
    if (this.updating) {
      this.filterChanged = true;
      return;
    }
    this.matched = matches === null || this.snapshot === null ? null : countByState(this.snapshot.sockets.filter(matches));
  }

  /** Counts per protocol group and state of every socket (live: copy before keeping). */
  allCounts(): CountsByGroup {
    return this.counts;
  }

  /** The same under the filter, or null without one. */
  matchedCounts(): CountsByGroup | null {
    return this.matched;
  }

  /** TCP LISTEN sockets of the snapshot, in no particular order. */
  tcpListeners(): ReadonlySet<SocketRecord> {
    return this.listeners;
  }

  listenerConnections(): ListenerConnections {
    return this.connections;
  }

  findingAggregates(): FindingAggregates {
    return this.findings;
  }
}
