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
  /** How many updates counted the connections over the whole snapshot again (tests). */
  fullRecounts = 0;

  /**
   * Bring the aggregates from the last snapshot to `snapshot`. `turnover` is the tracker's
   * (SocketTracker#lastTurnover) for exactly this step; anything else (the first snapshot, a
   * reset) counts `snapshot` from scratch.
   */
  update(snapshot: Snapshot, turnover: RecordTurnover | null, sysctls: NetSysctls): void {
    const range = ephemeralRangeOf(sysctls);
    const sameRange = range.low === this.findings.ephemeralRange.low && range.high === this.findings.ephemeralRange.high;
    if (turnover === null || this.snapshot === null || turnover.from !== this.snapshot || turnover.to !== snapshot) {
      this.recount(snapshot, sysctls);
      return;
    }
    // Listeners first, arrivals before departures: a listener whose line changed (the same
    // endpoint, a new record) never looks like an endpoint going away.
    let endpointsChanged = false;
    for (const s of turnover.added) {
      if (this.listening.add(s)) endpointsChanged = true;
      if (this.connections.addListener(s)) endpointsChanged = true;
      if (isTcpListener(s)) this.listeners.add(s);
    }
    for (const s of turnover.removed) {
      if (this.listening.remove(s)) endpointsChanged = true;
      if (this.connections.removeListener(s)) endpointsChanged = true;
      this.listeners.delete(s);
    }
    const matches = this.matches;
    const matched = this.matched;
    for (const s of turnover.removed) {
      adjustCount(this.counts, s, -1);
      if (matches !== null && matched !== null && matches(s)) adjustCount(matched, s, -1);
    }
    for (const s of turnover.added) {
      adjustCount(this.counts, s, 1);
      if (matches !== null && matched !== null && matches(s)) adjustCount(matched, s, 1);
    }
    this.snapshot = snapshot;
    if (endpointsChanged || !sameRange) {
      this.recountConnections(snapshot, sysctls);
      return;
    }
    for (const s of turnover.removed) {
      this.findings.remove(s);
      this.connections.countConnection(s, -1);
    }
    for (const s of turnover.added) {
      this.findings.add(s);
      this.connections.countConnection(s, 1);
    }
  }

  /** Everything from scratch over `snapshot` (the full recomputation). */
  private recount(snapshot: Snapshot, sysctls: NetSysctls): void {
    this.snapshot = snapshot;
    this.counts = countByState(snapshot.sockets);
    this.matched = this.matches === null ? null : countByState(snapshot.sockets.filter(this.matches));
    this.listening.clear();
    this.listeners.clear();
    for (const s of snapshot.sockets) {
      this.listening.add(s);
      if (isTcpListener(s)) this.listeners.add(s);
    }
    this.connections.reset();
    for (const s of this.listeners) this.connections.addListener(s);
    this.recountConnections(snapshot, sysctls);
  }

  /** The parts that depend on the listened endpoints and the ephemeral range. */
  private recountConnections(snapshot: Snapshot, sysctls: NetSysctls): void {
    this.fullRecounts++;
    this.findings = new FindingAggregates(this.listening, ephemeralRangeOf(sysctls));
    this.connections.clearConnections();
    for (const s of snapshot.sockets) {
      this.findings.add(s);
      this.connections.countConnection(s, 1);
    }
  }

  /** The screen's filter: counts under it from now on (null: none). */
  setFilter(matches: ((s: SocketRecord) => boolean) | null): void {
    this.matches = matches;
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
