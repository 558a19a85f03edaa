// evaluate*: a small rules engine that turns snapshots, counter rates and sysctls into findings
// in plain language ("the application is not closing sockets"), each with a filter expression
// that shows the sockets concerned. Pure: time is the snapshot's takenAtMs, never Date.now().
//
// Rules are data: an id, an optional per-snapshot summary the engine remembers (a bounded ring,
// so memory stays flat) and an evaluate function. Thresholds live in one table,
// DEFAULT_FINDING_THRESHOLDS; createDefaultRules(overrides) builds the rules with other values.
// The engine keeps, per finding, the first time its condition held (sinceMs) and keeps a finding
// whose condition stopped holding for a hold-down time, so a flapping condition neither blinks
// nor loses its age.

import { endpointKey, unmapIpv4, type ListenerHealth, type NetSysctls } from './listener-health.js';
import type { CounterRates } from './rates.js';
import { safeText } from './safe-text.js';
import type { SnapshotDiff } from './tracker.js';
import type { Snapshot, SocketOwner, SocketRecord, TcpState } from './types.js';

// ---------------------------------------------------------------------------------------------
// Types

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

// ---------------------------------------------------------------------------------------------
// Thresholds: the one table

export interface FindingThresholds {
  readonly closeWait: {
    /** CLOSE_WAIT sockets in one group (service port or remote port) before it is reported. */
    readonly minCount: number;
    /** Snapshots over which the count must not fall and must end higher (including the current one). */
    readonly risingSamples: number;
    /** A group that has held at least minCount in every snapshot for this long (ms of snapshot time) is reported even if it never grew. */
    readonly steadyMs: number;
    readonly critCount: number;
  };
  readonly timeWait: {
    /** TIME_WAIT sockets to one peer as a share of the ephemeral port range. */
    readonly warnShare: number;
    readonly critShare: number;
  };
  readonly synRecv: {
    /** Half-open connections on one port. */
    readonly warnCount: number;
    readonly critCount: number;
  };
  readonly acceptQueue: {
    /** Report 'queue-filling' listeners (>= 50 %) as info findings. */
    readonly reportFilling: boolean;
  };
  readonly resets: {
    /** Tcp.EstabResets + Tcp.OutRsts, per second, always reported above this. */
    readonly perSec: number;
    readonly critPerSec: number;
    /** A jump: this many times the recent average… */
    readonly jumpFactor: number;
    /** …and at least this many per second… */
    readonly jumpMinPerSec: number;
    /** …over the average of up to this many previous samples (at least 3 needed). */
    readonly baselineSamples: number;
  };
  readonly retransmits: {
    /** Tcp.RetransSegs rate / Tcp.OutSegs rate. */
    readonly warnShare: number;
    readonly critShare: number;
    /** Below this many segments sent per second the share is noise. */
    readonly minOutSegsPerSec: number;
  };
  readonly finWait2: {
    /** FIN_WAIT2 sockets in one group (service port or remote port). */
    readonly warnCount: number;
    readonly critCount: number;
  };
}

export const DEFAULT_FINDING_THRESHOLDS: FindingThresholds = {
  closeWait: { minCount: 20, risingSamples: 3, steadyMs: 30_000, critCount: 500 },
  timeWait: { warnShare: 0.5, critShare: 0.8 },
  synRecv: { warnCount: 100, critCount: 1000 },
  acceptQueue: { reportFilling: true },
  resets: { perSec: 100, critPerSec: 1000, jumpFactor: 5, jumpMinPerSec: 10, baselineSamples: 10 },
  retransmits: { warnShare: 0.02, critShare: 0.1, minOutSegsPerSec: 50 },
  finWait2: { warnCount: 100, critCount: 1000 },
};

export type FindingThresholdOverrides = { readonly [K in keyof FindingThresholds]?: Partial<FindingThresholds[K]> };

export function resolveThresholds(overrides: FindingThresholdOverrides = {}): FindingThresholds {
  const d = DEFAULT_FINDING_THRESHOLDS;
  return {
    closeWait: { ...d.closeWait, ...overrides.closeWait },
    timeWait: { ...d.timeWait, ...overrides.timeWait },
    synRecv: { ...d.synRecv, ...overrides.synRecv },
    acceptQueue: { ...d.acceptQueue, ...overrides.acceptQueue },
    resets: { ...d.resets, ...overrides.resets },
    retransmits: { ...d.retransmits, ...overrides.retransmits },
    finWait2: { ...d.finWait2, ...overrides.finWait2 },
  };
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

/** Linux's ip_local_port_range default, used when the sysctl could not be read. */
export const DEFAULT_EPHEMERAL_RANGE = { low: 32768, high: 60999 } as const;

// ---------------------------------------------------------------------------------------------
// Helpers shared by rules

const isTcp = (s: SocketRecord): boolean => s.protocol === 'tcp' || s.protocol === 'tcp6';

function listeningPorts(snapshot: Snapshot): Set<number> {
  const ports = new Set<number>();
  for (const s of snapshot.sockets) if (s.state === 'LISTEN' && isTcp(s)) ports.add(s.localPort);
  return ports;
}

/** Bounded, untrusted process name for text. */
const proc = (command: string): string => safeText(command, 64);

interface OwnerTally {
  /** pid → [command, sockets] */
  readonly byPid: Map<number, { command: string; count: number }>;
  unknown: number;
}

const newTally = (): OwnerTally => ({ byPid: new Map(), unknown: 0 });

function tallyOwner(t: OwnerTally, owner: SocketOwner | null): void {
  if (owner === null) {
    t.unknown++;
    return;
  }
  const e = t.byPid.get(owner.pid);
  if (e === undefined) t.byPid.set(owner.pid, { command: owner.command, count: 1 });
  else e.count++;
}

/** The process holding most of the sockets, or null when no owner is known. */
function topOwner(t: OwnerTally): { pid: number; command: string; count: number } | null {
  let best: { pid: number; command: string; count: number } | null = null;
  for (const [pid, e] of t.byPid) {
    if (best === null || e.count > best.count || (e.count === best.count && pid < best.pid)) best = { pid, command: e.command, count: e.count };
  }
  return best;
}

/** "held by nginx (pid 12), 40 of them; 3 by 2 other processes; 5 with no known owner". */
function describeOwners(t: OwnerTally, noun: string): string {
  const top = topOwner(t);
  if (top === null) return `No process could be found holding these ${noun} (run as root to see other users' processes).`;
  const others = t.byPid.size - 1;
  let text = `They are held by ${proc(top.command)} (pid ${top.pid})`;
  if (others > 0) text += `, ${top.count} of them; ${others} other process${others === 1 ? ' holds' : 'es hold'} the rest`;
  if (t.unknown > 0) text += `; ${t.unknown} have no known owner`;
  return `${text}.`;
}

function ownerSubject(t: OwnerTally): Pick<FindingSubject, 'pid' | 'process'> {
  const top = topOwner(t);
  return top === null ? {} : { pid: top.pid, process: proc(top.command) };
}

const fmt = (n: number): string => (n >= 100 || Number.isInteger(n) ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const pct = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/**
 * Sockets of one state grouped where it means something: by service port when the local port is
 * a TCP listener's (the server side), else by remote port (this host is the client).
 */
interface PortGroup {
  readonly key: string;
  readonly side: 'service' | 'remote';
  readonly port: number;
  count: number;
  readonly owners: OwnerTally;
  /** remote address → sockets, to name the main peer. */
  readonly peers: Map<string, number>;
  orphans: number;
}

function groupByPort(snapshot: Snapshot, state: TcpState): Map<string, PortGroup> {
  const listening = listeningPorts(snapshot);
  const groups = new Map<string, PortGroup>();
  for (const s of snapshot.sockets) {
    if (s.state !== state || !isTcp(s)) continue;
    const service = listening.has(s.localPort);
    const port = service ? s.localPort : s.remotePort;
    const key = service ? `sport ${port}` : `dport ${port}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { key, side: service ? 'service' : 'remote', port, count: 0, owners: newTally(), peers: new Map(), orphans: 0 };
      groups.set(key, g);
    }
    g.count++;
    tallyOwner(g.owners, s.owner);
    if (s.inode === 0) g.orphans++;
    const peer = unmapIpv4(s.remoteAddress);
    g.peers.set(peer, (g.peers.get(peer) ?? 0) + 1);
  }
  return groups;
}

function topKey(counts: ReadonlyMap<string, number>): { key: string; count: number } | null {
  let best: { key: string; count: number } | null = null;
  for (const [key, count] of counts) if (best === null || count > best.count || (count === best.count && key < best.key)) best = { key, count };
  return best;
}

/** Where a group is, in words: "port 8080" or "connections to port 5432". */
const groupPlace = (g: PortGroup): string => (g.side === 'service' ? `port ${g.port}` : `connections to remote port ${g.port}`);

const bySeverity = (a: RawFinding, b: RawFinding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity];

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * CLOSE_WAIT per group key, for groups with at least one socket (at most 64 groups): the count,
 * and since when (snapshot takenAtMs) the group has held at least minCount sockets in every
 * snapshot without a break (null while below minCount).
 */
type CloseWaitSummary = ReadonlyMap<string, { readonly count: number; readonly pileSinceMs: number | null }>;

function summarizeCloseWait(groups: Map<string, PortGroup>, nowMs: number, previous: CloseWaitSummary | undefined, minCount: number, max = 64): CloseWaitSummary {
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

/** "45 s", "3 min 20 s", "2 h 5 min". */
function formatDuration(ms: number): string {
  const sec = Math.max(0, Math.floor(ms / 1000));
  if (sec < 60) return `${sec} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return sec % 60 === 0 ? `${min} min` : `${min} min ${sec % 60} s`;
  return min % 60 === 0 ? `${Math.floor(min / 60)} h` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

/**
 * CLOSE_WAIT that the application does not close: reported when a group (service port or remote
 * port) holds at least minCount sockets and either grew over the last risingSamples snapshots
 * ("rising"), grew earlier in the remembered window and has not fallen below minCount since
 * ("stuck"), or has held at least minCount in every snapshot for steadyMs ("a pile that stays":
 * a leak that happened before sockscope started, or one that leaks as fast as it closes).
 * The title says which of the three it is, in the same words as the detail.
 */
function closeWaitRule(t: FindingThresholds['closeWait']): FindingRule<CloseWaitSummary> {
  return {
    id: 'close-wait-rising',
    summarize: (input, history) => summarizeCloseWait(groupByPort(input.snapshot, 'CLOSE_WAIT'), input.snapshot.takenAtMs, history[history.length - 1], t.minCount),
    evaluate(input, history) {
      const out: RawFinding[] = [];
      const nowMs = input.snapshot.takenAtMs;
      const groups = groupByPort(input.snapshot, 'CLOSE_WAIT');
      for (const g of groups.values()) {
        if (g.count < t.minCount) continue;
        const series = history.map((h) => h.get(g.key)?.count ?? 0);
        const last = series.length - 1;
        const growingNow = risingAt(series, last, t.risingSamples);
        // Once it has been seen growing within the remembered window, a plateau still counts
        // (sockets the application never closed stay leaked), as long as the count has not
        // fallen below the threshold since.
        let grewAt = -1;
        for (let i = last; i >= 0 && grewAt < 0 && (series[i] as number) >= t.minCount; i--) if (risingAt(series, i, t.risingSamples)) grewAt = i;
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

function twReuseAdvice(value: number | null, peer: string): string {
  const loopback = peer.startsWith('127.') || peer === '::1';
  switch (value) {
    case 0:
      return 'net.ipv4.tcp_tw_reuse is 0: setting it to 1 lets new outgoing connections reuse TIME_WAIT ports (safe with TCP timestamps).';
    case 1:
      return 'net.ipv4.tcp_tw_reuse is 1, so new outgoing connections can reuse these ports when TCP timestamps are on; the pile still shows many short-lived connections.';
    case 2:
      return loopback
        ? 'net.ipv4.tcp_tw_reuse is 2 (loopback only), which covers this peer.'
        : 'net.ipv4.tcp_tw_reuse is 2, which reuses TIME_WAIT ports for loopback only: setting it to 1 extends that to this peer.';
    default:
      return 'net.ipv4.tcp_tw_reuse could not be read (1 lets new outgoing connections reuse TIME_WAIT ports).';
  }
}

function timeWaitRule(t: FindingThresholds['timeWait']): FindingRule {
  return {
    id: 'time-wait-exhaustion',
    evaluate(input) {
      const range = input.sysctls.ephemeralPortRange ?? DEFAULT_EPHEMERAL_RANGE;
      const size = range.high - range.low + 1;
      const byPeer = new Map<string, { address: string; port: number; count: number }>();
      for (const s of input.snapshot.sockets) {
        if (s.state !== 'TIME_WAIT' || !isTcp(s) || s.localPort < range.low || s.localPort > range.high) continue;
        const address = unmapIpv4(s.remoteAddress);
        const peer = endpointKey(address, s.remotePort);
        const e = byPeer.get(peer);
        if (e === undefined) byPeer.set(peer, { address, port: s.remotePort, count: 1 });
        else e.count++;
      }
      const out: RawFinding[] = [];
      for (const [peer, e] of byPeer) {
        const share = e.count / size;
        if (share < t.warnShare) continue;
        const assumed = input.sysctls.ephemeralPortRange === null ? ' (Linux default; the sysctl could not be read)' : '';
        out.push({
          key: `peer ${peer}`,
          severity: share >= t.critShare ? 'crit' : 'warn',
          title: `Port exhaustion risk towards ${peer}: ${e.count} TIME_WAIT sockets`,
          detail:
            `${e.count} connections to ${peer} are in TIME_WAIT, holding ${pct(share)} of the ephemeral port range ` +
            `${range.low}-${range.high} (${size} ports)${assumed}. This host closed them first, and each keeps its local port ` +
            `for 60 s (fixed in the kernel; tcp_fin_timeout does not change it). When the range is used up, connect() to this ` +
            `peer fails with EADDRNOTAVAIL ("Cannot assign requested address"). ${twReuseAdvice(input.sysctls.tcpTwReuse, e.address)} ` +
            `Reusing connections (keep-alive, a pool) or a wider net.ipv4.ip_local_port_range removes the pressure.`,
          subject: { port: e.port, peer },
          filter: `state time-wait and dst ${peer} and sport ${range.low}-${range.high}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}

function syncookiesAdvice(value: number | null): string {
  switch (value) {
    case 0:
      return 'net.ipv4.tcp_syncookies is 0: with it at 1 the kernel keeps answering (with SYN cookies) once the SYN queue overflows.';
    case 1:
      return 'net.ipv4.tcp_syncookies is 1: SYN cookies take over when the SYN queue overflows (watch TcpExt.SyncookiesSent).';
    case 2:
      return 'net.ipv4.tcp_syncookies is 2: every SYN is answered with a cookie.';
    default:
      return 'net.ipv4.tcp_syncookies could not be read.';
  }
}

function synRecvRule(t: FindingThresholds['synRecv']): FindingRule {
  return {
    id: 'syn-recv-pileup',
    evaluate(input) {
      const byPort = new Map<number, { count: number; sources: Set<string> }>();
      for (const s of input.snapshot.sockets) {
        if ((s.state !== 'SYN_RECV' && s.state !== 'NEW_SYN_RECV') || !isTcp(s)) continue;
        let e = byPort.get(s.localPort);
        if (e === undefined) {
          e = { count: 0, sources: new Set() };
          byPort.set(s.localPort, e);
        }
        e.count++;
        if (e.sources.size < 10_000) e.sources.add(unmapIpv4(s.remoteAddress));
      }
      const out: RawFinding[] = [];
      for (const [port, e] of byPort) {
        if (e.count < t.warnCount) continue;
        const listeners = input.listeners.filter((l) => l.localPort === port);
        const tally = newTally();
        for (const l of listeners) tallyOwner(tally, l.owner);
        const owner = topOwner(tally);
        const who = owner === null ? '' : ` (${proc(owner.command)}, pid ${owner.pid})`;
        const queueFull = listeners.some((l) => l.flags.includes('queue-full'));
        const many = e.sources.size >= 10;
        const cause = queueFull
          ? 'The accept queue of this listener is full as well: the application is not accepting fast enough, and the kernel drops the final ACKs of new handshakes, which stay half-open.'
          : many
            ? `They come from ${e.sources.size} different addresses, which looks like a SYN flood (often with spoofed sources).`
            : `They come from ${e.sources.size} address${e.sources.size === 1 ? '' : 'es'}: the final ACKs are lost on the way back (a firewall, asymmetric routing) or a client does not finish its handshakes.`;
        const synBacklog = input.sysctls.tcpMaxSynBacklog === null ? '' : ` The SYN queue is capped by net.ipv4.tcp_max_syn_backlog = ${input.sysctls.tcpMaxSynBacklog}.`;
        out.push({
          key: `sport ${port}`,
          severity: e.count >= t.critCount ? 'crit' : 'warn',
          title: `Many half-open connections (SYN_RECV) on port ${port}`,
          detail:
            `${e.count} handshakes to port ${port}${who} are waiting for the client's final ACK. ${cause} ` +
            `${syncookiesAdvice(input.sysctls.tcpSyncookies)}${synBacklog}`,
          subject: { port, ...(owner === null ? {} : { pid: owner.pid, process: proc(owner.command) }) },
          filter: `state syn-recv and sport ${port}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}

function acceptQueueRule(t: FindingThresholds['acceptQueue']): FindingRule {
  return {
    id: 'accept-queue-full',
    evaluate(input) {
      const out: RawFinding[] = [];
      // SO_REUSEPORT siblings share an endpoint: one finding per protocol + endpoint.
      const byEndpoint = new Map<string, ListenerHealth[]>();
      for (const l of input.listeners) {
        const flagged = l.flags.includes('queue-full') || l.flags.includes('dropping') || (t.reportFilling && l.flags.includes('queue-filling'));
        if (!flagged) continue;
        const k = `${l.protocol} ${l.endpoint}`;
        const list = byEndpoint.get(k);
        if (list === undefined) byEndpoint.set(k, [l]);
        else list.push(l);
      }
      for (const [key, ls] of byEndpoint) {
        const l = ls[0] as ListenerHealth;
        const queue = ls.reduce((n, x) => n + x.acceptQueue, 0);
        const backlog = ls.every((x) => x.backlog !== null) ? ls.reduce((n, x) => n + (x.backlog ?? 0), 0) : null;
        const dropping = ls.some((x) => x.flags.includes('dropping'));
        const full = ls.some((x) => x.flags.includes('queue-full'));
        const over = ls.some((x) => x.fillRatio !== null && x.fillRatio > 1);
        const tally = newTally();
        for (const x of ls) if (x.owner !== null) tallyOwner(tally, x.owner);
        const owner = topOwner(tally);
        const who = owner === null ? 'the application (owner unknown)' : `${proc(owner.command)} (pid ${owner.pid})`;
        const limit =
          backlog === null
            ? 'an unknown backlog'
            : l.backlogIsEstimate
              ? `a backlog of at most ${backlog} (net.core.somaxconn; the real limit is the listen() argument, which /proc does not show)`
              : `a backlog of ${backlog}`;
        const drops = dropping
          ? ` The kernel is dropping connections: TcpExt.ListenOverflows ${fmt(l.overflowsPerSec)}/s, ListenDrops ${fmt(l.dropsPerSec)}/s. These counters are machine-wide (per network namespace), not per listener: they are attributed to every listener whose accept queue is non-empty.`
          : '';
        out.push({
          key,
          severity: dropping || over ? 'crit' : full ? 'warn' : 'info',
          title: `${full || dropping ? 'Accept queue full' : 'Accept queue filling'} on port ${l.localPort}: ${who} is not accepting fast enough`,
          detail:
            `The listener ${l.endpoint} has ${queue} connection${queue === 1 ? '' : 's'} waiting for accept() with ${limit}. ` +
            `These handshakes are complete; new ones are dropped once the queue is full, and clients see slow or failed connects.${drops} ` +
            `Look for a blocked or overloaded accept loop in ${who}, add workers, or raise the backlog (the listen() argument, capped by net.core.somaxconn${input.sysctls.somaxconn === null ? '' : ` = ${input.sysctls.somaxconn}`}).`,
          subject: { port: l.localPort, ...ownerSubject(tally) },
          filter: `state listen and src ${l.endpoint}`,
        });
      }
      // Overflows with no listener to blame: queues that fill and drain between samples.
      const overflowsPerSec = input.rates['TcpExt.ListenOverflows'] ?? 0;
      const dropsPerSec = input.rates['TcpExt.ListenDrops'] ?? 0;
      if ((overflowsPerSec > 0 || dropsPerSec > 0) && !input.listeners.some((l) => l.flags.includes('dropping'))) {
        out.push({
          key: 'unattributed',
          severity: 'warn',
          title: 'Listen queue overflows, no listener caught with a full queue',
          detail:
            `TcpExt.ListenOverflows ${fmt(overflowsPerSec)}/s, ListenDrops ${fmt(dropsPerSec)}/s: some listener dropped connections, ` +
            `but every accept queue was empty when sampled (queues that fill and drain between refreshes, or a listener in a ` +
            `short burst). These counters are machine-wide (per network namespace). Watch the LISTEN sockets' Recv-Q.`,
          subject: {},
          filter: 'state listen',
        });
      }
      return out.sort(bySeverity);
    },
  };
}

/** Connections that vanished straight from ESTABLISHED (a reset or an abort, not an orderly close), by port. */
function abruptCloses(input: FindingsInput): { key: string; port: number; count: number } | null {
  if (input.diff === null || input.diff.intervalMs <= 0) return null;
  const listening = listeningPorts(input.snapshot);
  const counts = new Map<string, number>();
  for (const s of input.diff.closed) {
    if (s.state !== 'ESTABLISHED' || !isTcp(s)) continue;
    const key = listening.has(s.localPort) ? `sport ${s.localPort}` : `dport ${s.remotePort}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = topKey(counts);
  return top === null ? null : { key: top.key, port: Number(top.key.slice(6)), count: top.count };
}

function resetRule(t: FindingThresholds['resets']): FindingRule<number | null> {
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
      const previous = history.slice(0, -1).filter((v): v is number => v !== null).slice(-t.baselineSamples);
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

function retransmitRule(t: FindingThresholds['retransmits']): FindingRule {
  return {
    id: 'retransmits-rising',
    evaluate(input) {
      const retrans = input.rates['Tcp.RetransSegs'];
      const outSegs = input.rates['Tcp.OutSegs'];
      if (retrans === undefined || outSegs === undefined || outSegs < t.minOutSegsPerSec) return [];
      const share = retrans / outSegs;
      if (share < t.warnShare) return [];
      // Which peers have unrecovered retransmits now (retrnsmt column of /proc/net/tcp).
      const peers = new Map<string, number>();
      for (const s of input.snapshot.sockets) {
        if (!isTcp(s) || s.retransmits <= 0) continue;
        const a = unmapIpv4(s.remoteAddress);
        peers.set(a, (peers.get(a) ?? 0) + 1);
      }
      const top = topKey(peers);
      return [
        {
          key: 'machine',
          severity: share >= t.critShare ? 'crit' : 'warn',
          title: `Retransmits at ${pct(share)} of segments sent`,
          detail:
            `Tcp.RetransSegs ${fmt(retrans)}/s of Tcp.OutSegs ${fmt(outSegs)}/s (${pct(share)}; a healthy network stays well under 1%). ` +
            `Packets are being lost or delayed: congestion, a bad link, a peer that is overloaded or gone.` +
            (top === null
              ? ' No socket shows unrecovered retransmits right now.'
              : ` ${top.count} socket${top.count === 1 ? '' : 's'} to ${top.key} ${top.count === 1 ? 'has' : 'have'} unrecovered retransmits now (the most of any peer).`),
          subject: top === null ? {} : { peer: top.key },
          filter: top === null ? 'tcp' : `tcp and dst ${top.key}`,
        },
      ];
    },
  };
}

function finWait2Rule(t: FindingThresholds['finWait2']): FindingRule {
  return {
    id: 'fin-wait2-pileup',
    evaluate(input) {
      const out: RawFinding[] = [];
      const finTimeout = input.sysctls.tcpFinTimeoutSec;
      for (const g of groupByPort(input.snapshot, 'FIN_WAIT2').values()) {
        if (g.count < t.warnCount) continue;
        const held = g.count - g.orphans;
        const peer = topKey(g.peers);
        out.push({
          key: g.key,
          severity: g.count >= t.critCount ? 'crit' : 'warn',
          title: `FIN_WAIT2 piling up on ${groupPlace(g)}: ${g.count} sockets`,
          detail:
            `${g.count} connections on ${groupPlace(g)} are in FIN_WAIT2: this side closed and the peer acknowledged, but the peer ` +
            `has not closed its end (its application may be stuck with the socket in CLOSE_WAIT)` +
            (peer === null ? '. ' : `; most go to ${peer.key} (${peer.count}). `) +
            `${g.orphans} are orphaned (already closed here), and the kernel frees those after net.ipv4.tcp_fin_timeout` +
            `${finTimeout === null ? '' : ` = ${finTimeout} s`}; ${held} are still held by a process (shutdown() without close()) and wait for the peer indefinitely.` +
            (held > 0 ? ` ${describeOwners(g.owners, 'sockets')}` : ''),
          subject: { port: g.port, ...ownerSubject(g.owners), ...(peer === null ? {} : { peer: peer.key }) },
          filter: `state fin-wait-2 and ${g.key}`,
        });
      }
      return out.sort(bySeverity);
    },
  };
}

/** The seven rules with the given thresholds (defaults for anything not overridden). */
export function createDefaultRules(overrides: FindingThresholdOverrides = {}): readonly FindingRule[] {
  const t = resolveThresholds(overrides);
  return [
    acceptQueueRule(t.acceptQueue),
    closeWaitRule(t.closeWait),
    synRecvRule(t.synRecv),
    timeWaitRule(t.timeWait),
    finWait2Rule(t.finWait2),
    resetRule(t.resets),
    retransmitRule(t.retransmits),
  ];
}

export const DEFAULT_RULES: readonly FindingRule[] = createDefaultRules();

// ---------------------------------------------------------------------------------------------
// Engine

export interface FindingsEngineOptions {
  /** How long a finding stays after its condition stopped holding, ms of snapshot time. */
  readonly holdDownMs: number;
  /** Summaries remembered per rule (snapshots). */
  readonly historyLength: number;
  /** At most this many findings per rule per snapshot (the most severe first). */
  readonly maxPerRule: number;
}

export const DEFAULT_FINDINGS_OPTIONS: FindingsEngineOptions = { holdDownMs: 10_000, historyLength: 60, maxPerRule: 10 };

export class FindingsEngine {
  readonly options: FindingsEngineOptions;
  private readonly rules: readonly FindingRule[];
  /** One ring of summaries per rule, by rule index. */
  private readonly histories: unknown[][];
  private readonly active = new Map<string, Finding>();

  constructor(rules: readonly FindingRule[] = DEFAULT_RULES, options: Partial<FindingsEngineOptions> = {}) {
    this.rules = rules;
    this.options = { ...DEFAULT_FINDINGS_OPTIONS, ...options };
    this.histories = rules.map(() => []);
  }

  /**
   * Evaluate every rule on this snapshot. Returns the current findings, the most severe first,
   * then the oldest; findings whose condition stopped holding less than holdDownMs ago are kept
   * with `holding: false`.
   */
  update(input: FindingsInput): Finding[] {
    const nowMs = input.snapshot.takenAtMs;
    const raised = new Set<string>();
    this.rules.forEach((rule, i) => {
      const history = this.histories[i] as unknown[];
      if (rule.summarize !== undefined) {
        history.push(rule.summarize(input, history));
        if (history.length > this.options.historyLength) history.splice(0, history.length - this.options.historyLength);
      }
      const raw = rule.evaluate(input, history).sort(bySeverity).slice(0, this.options.maxPerRule);
      for (const r of raw) {
        const id = `${rule.id}:${r.key}`;
        if (raised.has(id)) continue;
        raised.add(id);
        const prev = this.active.get(id);
        this.active.set(id, {
          ...r,
          id,
          rule: rule.id,
          state: RULE_INFO[rule.id].state,
          sinceMs: prev?.sinceMs ?? nowMs,
          lastHeldMs: nowMs,
          holding: true,
        });
      }
    });
    for (const [id, f] of this.active) {
      if (raised.has(id)) continue;
      if (nowMs - f.lastHeldMs >= this.options.holdDownMs) this.active.delete(id);
      else if (f.holding) this.active.set(id, { ...f, holding: false });
    }
    return this.current();
  }

  /** The findings of the last update, without evaluating again. */
  current(): Finding[] {
    return [...this.active.values()].sort(
      (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || Number(b.holding) - Number(a.holding) || a.sinceMs - b.sinceMs || a.id.localeCompare(b.id),
    );
  }

  /** Forget everything (e.g. when switching network namespace). */
  reset(): void {
    this.active.clear();
    for (const h of this.histories) h.length = 0;
  }

  /** Objects held, for soak tests (must stay flat). */
  size(): { findings: number; historySamples: number } {
    return { findings: this.active.size, historySamples: this.histories.reduce((n, h) => n + h.length, 0) };
  }
}
