// Findings: what a rule sees (FindingsInput), what it reports (RawFinding), what the engine
// keeps (Finding), and per rule its name and the TCP state it concerns. Types and small data only.

import type { ListenerHealth, NetSysctls } from '../listener-health.js';
import type { FindingAggregates } from './aggregates.js';
import type { CounterRates } from '../rates.js';
import type { SnapshotDiff } from '../tracker.js';
import type { Snapshot, TcpState } from '../types.js';

export type RuleId =
  | 'close-wait-rising'
  | 'time-wait-exhaustion'
  | 'syn-recv-pileup'
  | 'accept-queue-full'
  | 'reset-burst'
  | 'retransmits-rising'
  | 'fin-wait2-pileup';

export type Severity = 'info' | 'warn' | 'crit';

export const SEVERITY_RANK = { info: 0, warn: 1, crit: 2 } as const satisfies Record<Severity, number>;

/** What a finding is about; process is untrusted text made inert (safeText). */
export interface FindingSubject {
  readonly port?: number;
  readonly pid?: number;
  readonly process?: string;
  /** "10.0.0.5:443", "[::1]:443", or a bare address. */
  readonly peer?: string;
}

/** What a rule reports; the engine adds id, rule and times. */
export interface RawFinding {
  /** Stable subject key within the rule ("sport 8080", "peer 10.0.0.5:443"). */
  readonly key: string;
  readonly severity: Severity;
  readonly title: string;
  /** Plain language; names the process, port or peer. */
  readonly detail: string;
  readonly subject: FindingSubject;
  /** A sockscope filter expression (src/filter) that lists the sockets concerned; 'tcp' when none remain. */
  readonly filter: string;
}

export interface Finding extends RawFinding {
  /** Stable across refreshes: `${rule}:${key}`. */
  readonly id: string;
  readonly rule: RuleId;
  /** The TCP state the finding is about (for the state explanation), or null. */
  readonly state: TcpState | null;
  /** takenAtMs of the first snapshot in which the condition held (kept through hold-down). */
  readonly sinceMs: number;
  /** takenAtMs of the last snapshot in which it held. */
  readonly lastHeldMs: number;
  /** false while the finding is only kept by the hold-down. */
  readonly holding: boolean;
}

export interface FindingsInput {
  readonly snapshot: Snapshot;
  readonly previous?: Snapshot | null;
  /** What changed since the previous snapshot (SocketTracker.ingest), null when unknown. */
  readonly diff: SnapshotDiff | null;
  /** Counter rates between previous and snapshot (computeRates); empty on the first snapshot. */
  readonly rates: CounterRates;
  readonly sysctls: NetSysctls;
  readonly listeners: readonly ListenerHealth[];
  /**
   * The snapshot's per-socket aggregates kept up to date by the session store (for this
   * snapshot, its listening endpoints and the sysctls' ephemeral range); absent: the rules build
   * them from the snapshot.
   */
  readonly aggregates?: FindingAggregates;
}

/**
 * A rule. `summarize` (optional) reduces one snapshot to what the rule must remember; the engine
 * keeps the last `historyLength` summaries and passes them, oldest first and including this
 * snapshot's, to `evaluate`. Method syntax on purpose: rules with different summary types fit
 * in one array.
 */
export interface FindingRule<S = unknown> {
  readonly id: RuleId;
  /** `history`: the summaries remembered so far, oldest first, without this snapshot's. */
  summarize?(input: FindingsInput, history: readonly S[]): S;
  evaluate(input: FindingsInput, history: readonly S[]): RawFinding[];
}

/** Per rule: a short name for lists and the TCP state whose explanation applies. */
export const RULE_INFO = {
  'close-wait-rising': { name: 'CLOSE_WAIT not closed', state: 'CLOSE_WAIT' },
  'time-wait-exhaustion': { name: 'TIME_WAIT port exhaustion', state: 'TIME_WAIT' },
  'syn-recv-pileup': { name: 'SYN_RECV pile-up', state: 'SYN_RECV' },
  'accept-queue-full': { name: 'Accept queue full', state: 'LISTEN' },
  'reset-burst': { name: 'Burst of resets', state: null },
  'retransmits-rising': { name: 'Retransmits rising', state: null },
  'fin-wait2-pileup': { name: 'FIN_WAIT2 pile-up', state: 'FIN_WAIT2' },
} as const satisfies Record<RuleId, { name: string; state: TcpState | null }>;

/** Most severe first. */
export const bySeverity = (a: RawFinding, b: RawFinding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];
