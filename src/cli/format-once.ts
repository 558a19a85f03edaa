// Presenters for the non-interactive outputs: `--once` (aligned table), `--json`, `--summary`.
// They receive data and return text; printing is the caller's business.

import type { CountsByGroup, StateCounts } from '../model/aggregate.js';
import { totalOf } from '../model/aggregate.js';
import { endpointKey, unmapIpv4 } from '../model/address.js';
import { safeText } from '../model/safe-text.js';
import { stateLabel } from '../model/state-info.js';
import type { KernelCounters, ProtocolGroup, Snapshot, SocketRecord } from '../model/types.js';
import { formatOwner, localEndpoint, peerEndpoint, type SocketExtras } from '../view/presenters.js';

/** Listen backlogs by endpointKey ("127.0.0.1:80", "[::1]:80", "*:80" for ss's dual-stack any), from `ss -ltnH`. */
export type ListenBacklogs = ReadonlyMap<string, number>;

const isTcpListener = (s: SocketRecord): boolean => (s.protocol === 'tcp' || s.protocol === 'tcp6') && s.state === 'LISTEN';

/**
 * The backlog limit (connections) of a TCP listener from `ss -ltnH`'s Send-Q, matched the way
 * listener health matches it: the exact endpoint, the IPv4 form of a v4-mapped one, or ss's "*"
 * for a wildcard. null for other sockets or when ss did not report it.
 */
export function listenBacklogOf(s: SocketRecord, backlogs: ListenBacklogs | null): number | null {
  if (backlogs === null || !isTcpListener(s)) return null;
  const wildcard = s.localAddress === '0.0.0.0' || s.localAddress === '::';
  return (
    backlogs.get(endpointKey(s.localAddress, s.localPort)) ??
    backlogs.get(endpointKey(unmapIpv4(s.localAddress), s.localPort)) ??
    (wildcard ? backlogs.get(endpointKey('*', s.localPort)) : undefined) ??
    null
  );
}

const HEADERS = ['Proto', 'State', 'Recv-Q', 'Send-Q', 'Local Address:Port', 'Peer Address:Port', 'User', 'Process'] as const;
const RIGHT_ALIGNED = new Set([2, 3]);

/**
 * An aligned table like `ss -tanp`, one socket per line, states by ss's short names (ESTAB,
 * TIME-WAIT) as on the dashboard. A TCP LISTEN row shows its backlog limit in Send-Q as ss does
 * (its accept queue is Recv-Q): from `backlogs` when given, "-" when it is not known (/proc's
 * tx_queue is always 0 for a listener).
 */
export function formatSocketTable(
  sockets: readonly SocketRecord[],
  backlogs: ListenBacklogs | null = null,
  extras: SocketExtras = {},
): string {
  const rows: string[][] = [[...HEADERS]];
  for (const s of sockets) {
    rows.push([
      s.protocol === 'unix' ? `u_${s.unixType ?? '?'}`.slice(0, 6) : s.protocol,
      stateLabel(s.protocol, s.state),
      String(s.recvQ),
      isTcpListener(s) ? String(listenBacklogOf(s, backlogs) ?? '-') : String(s.sendQ),
      localEndpoint(s),
      peerEndpoint(s, extras),
      safeText(s.user, 32),
      formatOwner(s),
    ]);
  }
  const widths = HEADERS.map(() => 0);
  for (const r of rows) for (let i = 0; i < r.length; i++) widths[i] = Math.min(60, Math.max(widths[i] ?? 0, (r[i] ?? '').length));
  return rows
    .map((r) =>
      r
        .map((cell, i) => {
          if (i === r.length - 1) return cell;
          const w = widths[i] ?? 0;
          return RIGHT_ALIGNED.has(i) ? cell.padStart(w) : cell.padEnd(w);
        })
        .join(' ')
        .trimEnd(),
    )
    .join('\n');
}

const GROUP_ORDER: readonly ProtocolGroup[] = ['tcp', 'udp', 'raw', 'unix'];

/** Counts per protocol and state, biggest first. */
export function formatSummary(counts: CountsByGroup): string {
  const lines: string[] = [];
  for (const group of GROUP_ORDER) {
    const c: StateCounts = counts[group];
    const total = totalOf(c);
    if (total === 0 && group === 'raw') continue;
    lines.push(`${group.toUpperCase().padEnd(5)} ${String(total).padStart(8)}`);
    const entries = Object.entries(c).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
    for (const [state, n] of entries) lines.push(`  ${state.padEnd(14)} ${String(n).padStart(7)}`);
  }
  return lines.join('\n');
}

/**
 * The JSON socket record: stable field names that scripts rely on. States keep their kernel
 * names (ESTABLISHED, TIME_WAIT); `backlog` is a TCP listener's backlog limit (from `ss -ltnH`),
 * null for other sockets or when unknown.
 */
export function socketToJson(s: SocketRecord, backlogs: ListenBacklogs | null = null, extras: SocketExtras = {}): Record<string, unknown> {
  const json: Record<string, unknown> = {
    protocol: s.protocol,
    state: s.state,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    recvQ: s.recvQ,
    sendQ: s.sendQ,
    backlog: listenBacklogOf(s, backlogs),
    inode: s.inode,
    uid: s.uid,
    user: s.user,
    pid: s.owner?.pid ?? null,
    process: s.owner?.command ?? null,
    commandLine: s.owner?.commandLine ?? null,
    fd: s.owner?.fd ?? null,
    sharedBy: s.sharedBy,
    timer: s.timer,
    timerMs: s.timerMs,
    retransmits: s.retransmits,
    rtoMs: s.rtoMs,
    atoMs: s.atoMs,
    cwnd: s.cwnd,
    ssthresh: s.ssthresh,
    drops: s.drops,
    path: s.path,
    unixType: s.unixType,
  };
  // Present when ss could be read: a UNIX socket's peer (null fields when it has none or the
  // peer's holder is unknown), a TCP connection's rates (null until it was seen twice).
  if (extras.unixPeers !== undefined && s.protocol === 'unix') {
    const p = extras.unixPeers.get(s.inode);
    json['peerInode'] = p?.peerInode ?? null;
    json['peerPid'] = p?.peerPid ?? null;
    json['peerProcess'] = p?.peerProcess ?? null;
  }
  if (extras.rates !== undefined && (s.protocol === 'tcp' || s.protocol === 'tcp6')) {
    const r = extras.rates.get(s.key);
    json['sendBytesPerSec'] = r?.sendBytesPerSec ?? null;
    json['recvBytesPerSec'] = r?.recvBytesPerSec ?? null;
    json['retransPerSec'] = r?.retransPerSec ?? null;
    json['rttMs'] = r?.rttMs ?? null;
    json['rttVarMs'] = r?.rttVarMs ?? null;
    json['bytesAcked'] = r?.bytesAcked ?? null;
    json['bytesReceived'] = r?.bytesReceived ?? null;
  }
  return json;
}

export interface JsonDocumentInput {
  readonly snapshot: Snapshot;
  /** Sockets per protocol and state among those the filter selects (all without a filter). */
  readonly counts: CountsByGroup;
  /** Sockets per protocol and state among everything read; counts when not given. */
  readonly totals?: CountsByGroup;
  readonly sockets: readonly SocketRecord[];
  readonly backlogs?: ListenBacklogs | null;
  readonly filter: string | null;
  readonly warnings: readonly string[];
  readonly extras?: SocketExtras;
  /** When the counters behind the rates were read, ms since epoch (older than takenAt when spaced out). */
  readonly ratesAsOfMs?: number | null;
}

/**
 * JSON.stringify escapes only C0 controls; DEL, C1 controls (U+009B is CSI to a UTF-8 terminal)
 * and bidi/format controls stay raw inside strings. They only ever occur inside string literals,
 * so turning them into \uXXXX keeps the document valid and parsing back to the same strings.
 */
const JSON_UNSAFE = /[\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** JSON text that is inert on a terminal (scripts print `--json` output to one too). */
export function stringifyForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatJsonDocument(input: JsonDocumentInput): string {
  const { snapshot } = input;
  const counters: KernelCounters = snapshot.counters;
  return stringifyForTerminal({
    takenAt: new Date(snapshot.takenAtMs).toISOString(),
    host: snapshot.host,
    filter: input.filter,
    counts: input.counts,
    totals: input.totals ?? input.counts,
    counters,
    skippedLines: snapshot.issues.skippedLines,
    warnings: input.warnings,
    ...(input.ratesAsOfMs == null ? {} : { ratesAsOf: new Date(input.ratesAsOfMs).toISOString() }),
    sockets: input.sockets.map((s) => socketToJson(s, input.backlogs ?? null, input.extras)),
  });
}
