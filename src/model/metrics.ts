// render*: a snapshot as Prometheus metrics, in the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure: data in, text out.
//
// Every family gets "# HELP" and "# TYPE" lines before its samples; label values escape
// backslash, double quote and newline; every series (name + label set) appears once. The names
// are documented in README.md ("Fleets: Prometheus metrics").

import { PROTOCOL_GROUP, type CountsByGroup } from './aggregate.js';
import type { KernelCounters, ProtocolGroup, SocketRecord, SocketState } from './types.js';

/** Per-namespace counts for `serve --all-netns` (a plain shape: the model does not know /proc). */
export interface NetnsMetricsRow {
  /** "net:[4026531840]" */
  readonly netns: string;
  /** comm of the process that labels the namespace (untrusted text). */
  readonly process: string;
  readonly counts: CountsByGroup;
}

export interface MetricsInput {
  /** The sockets to count (already filtered when a filter is set). */
  readonly sockets: readonly SocketRecord[];
  /** /proc/net/snmp + /proc/net/netstat ("Tcp.ActiveOpens"), as collected. */
  readonly counters: KernelCounters;
  /** When the data was collected, ms since the epoch. */
  readonly takenAtMs: number;
  /** Time the collection took, seconds. */
  readonly collectSeconds: number;
  /** At most this many listening ports get sockscope_port_sockets series (and as many listeners). */
  readonly maxPorts: number;
  /** sockscope's version, for sockscope_build_info. */
  readonly version: string;
  /** Per-namespace counts (serve --all-netns), or null. */
  readonly namespaces?: readonly NetnsMetricsRow[] | null;
}

export type MetricType = 'gauge' | 'counter';

export interface MetricSample {
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly MetricSample[];
}

/** Kernel counters exported one metric each: the ones that explain connection trouble. */
export const COUNTER_METRICS = [
  {
    name: 'sockscope_tcp_active_opens_total',
    key: 'Tcp.ActiveOpens',
    help: 'TCP connections this host opened (SYN_SENT), Tcp.ActiveOpens of /proc/net/snmp.',
  },
  {
    name: 'sockscope_tcp_passive_opens_total',
    key: 'Tcp.PassiveOpens',
    help: 'TCP connections accepted from peers (SYN_RECV), Tcp.PassiveOpens of /proc/net/snmp.',
  },
  {
    name: 'sockscope_tcp_attempt_fails_total',
    key: 'Tcp.AttemptFails',
    help: 'TCP connection attempts that failed, Tcp.AttemptFails of /proc/net/snmp.',
  },
  {
    name: 'sockscope_tcp_estab_resets_total',
    key: 'Tcp.EstabResets',
    help: 'TCP connections reset from ESTABLISHED or CLOSE_WAIT, Tcp.EstabResets of /proc/net/snmp.',
  },
  { name: 'sockscope_tcp_in_segments_total', key: 'Tcp.InSegs', help: 'TCP segments received, Tcp.InSegs of /proc/net/snmp.' },
  { name: 'sockscope_tcp_out_segments_total', key: 'Tcp.OutSegs', help: 'TCP segments sent, Tcp.OutSegs of /proc/net/snmp.' },
  {
    name: 'sockscope_tcp_retransmitted_segments_total',
    key: 'Tcp.RetransSegs',
    help: 'TCP segments retransmitted, Tcp.RetransSegs of /proc/net/snmp.',
  },
  {
    name: 'sockscope_tcp_in_errors_total',
    key: 'Tcp.InErrs',
    help: 'TCP segments received in error (bad checksum, …), Tcp.InErrs of /proc/net/snmp.',
  },
  { name: 'sockscope_tcp_out_resets_total', key: 'Tcp.OutRsts', help: 'TCP segments sent with RST, Tcp.OutRsts of /proc/net/snmp.' },
  {
    name: 'sockscope_tcp_listen_overflows_total',
    key: 'TcpExt.ListenOverflows',
    help: 'Connections dropped because a listener accept queue was full, TcpExt.ListenOverflows of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_listen_drops_total',
    key: 'TcpExt.ListenDrops',
    help: 'SYNs dropped by listeners for any reason, TcpExt.ListenDrops of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_syn_retransmits_total',
    key: 'TcpExt.TCPSynRetrans',
    help: 'SYN and SYN-ACK retransmissions, TcpExt.TCPSynRetrans of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_timeouts_total',
    key: 'TcpExt.TCPTimeouts',
    help: 'TCP retransmission timer expirations, TcpExt.TCPTimeouts of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_abort_on_timeout_total',
    key: 'TcpExt.TCPAbortOnTimeout',
    help: 'TCP connections aborted after too many retransmissions, TcpExt.TCPAbortOnTimeout of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_abort_on_memory_total',
    key: 'TcpExt.TCPAbortOnMemory',
    help: 'TCP connections aborted for lack of memory, TcpExt.TCPAbortOnMemory of /proc/net/netstat.',
  },
  {
    name: 'sockscope_tcp_syncookies_sent_total',
    key: 'TcpExt.SyncookiesSent',
    help: 'SYN cookies sent (SYN queue full), TcpExt.SyncookiesSent of /proc/net/netstat.',
  },
  { name: 'sockscope_udp_in_datagrams_total', key: 'Udp.InDatagrams', help: 'UDP datagrams delivered, Udp.InDatagrams of /proc/net/snmp.' },
  { name: 'sockscope_udp_out_datagrams_total', key: 'Udp.OutDatagrams', help: 'UDP datagrams sent, Udp.OutDatagrams of /proc/net/snmp.' },
  {
    name: 'sockscope_udp_no_ports_total',
    key: 'Udp.NoPorts',
    help: 'UDP datagrams to a port nobody listens on, Udp.NoPorts of /proc/net/snmp.',
  },
  {
    name: 'sockscope_udp_in_errors_total',
    key: 'Udp.InErrors',
    help: 'UDP datagrams that could not be delivered, Udp.InErrors of /proc/net/snmp.',
  },
  {
    name: 'sockscope_udp_receive_buffer_errors_total',
    key: 'Udp.RcvbufErrors',
    help: 'UDP datagrams dropped because a receive buffer was full, Udp.RcvbufErrors of /proc/net/snmp.',
  },
  {
    name: 'sockscope_udp_send_buffer_errors_total',
    key: 'Udp.SndbufErrors',
    help: 'UDP datagrams dropped because a send buffer was full, Udp.SndbufErrors of /proc/net/snmp.',
  },
] as const satisfies readonly { name: string; key: string; help: string }[];

/**
 * States always exported per protocol group, 0 when absent, so series do not come and go.
 * NEW_SYN_RECV never appears in /proc (request socks show as SYN_RECV); other states appear
 * when seen.
 */
const ALWAYS_STATES = {
  tcp: [
    'ESTABLISHED',
    'SYN_SENT',
    'SYN_RECV',
    'FIN_WAIT1',
    'FIN_WAIT2',
    'TIME_WAIT',
    'CLOSE',
    'CLOSE_WAIT',
    'LAST_ACK',
    'LISTEN',
    'CLOSING',
  ],
  udp: ['ESTABLISHED', 'UNCONN'],
  raw: ['ESTABLISHED', 'UNCONN'],
  unix: ['LISTENING', 'CONNECTED', 'UNCONNECTED', 'CONNECTING', 'DISCONNECTING'],
} as const satisfies Record<ProtocolGroup, readonly SocketState[]>;

const GROUPS: readonly ProtocolGroup[] = ['tcp', 'udp', 'raw', 'unix'];

/** Label value escaping of the text format: backslash, double quote, line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text escaping: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));
}

/** Sample value: Go-style float text; NaN and infinities as the format spells them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** One family as text: HELP, TYPE, then one line per sample. */
export function renderFamily(family: MetricFamily): string {
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`];
  for (const s of family.samples) {
    const labels = s.labels.length === 0 ? '' : `{${s.labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
    lines.push(`${family.name}${labels} ${formatValue(s.value)}`);
  }
  return lines.join('\n');
}

/** Sorted states of one group: the always-exported ones first (in table order), then others seen. */
function statesOf(group: ProtocolGroup, seen: Iterable<string>): string[] {
  const always: readonly string[] = ALWAYS_STATES[group];
  const extra = [...new Set(seen)].filter((s) => !always.includes(s)).sort();
  return [...always, ...extra];
}

function socketFamily(sockets: readonly SocketRecord[]): MetricFamily {
  const counts = new Map<ProtocolGroup, Map<string, number>>(GROUPS.map((g) => [g, new Map()]));
  for (const s of sockets) {
    const byState = counts.get(PROTOCOL_GROUP[s.protocol]);
    if (byState !== undefined) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
  }
  const samples: MetricSample[] = [];
  for (const group of GROUPS) {
    const byState = counts.get(group) ?? new Map<string, number>();
    for (const state of statesOf(group, byState.keys())) {
      samples.push({
        labels: [
          ['protocol', group],
          ['state', state],
        ],
        value: byState.get(state) ?? 0,
      });
    }
  }
  return { name: 'sockscope_sockets', help: 'Sockets per protocol (tcp covers tcp6) and state, from /proc/net.', type: 'gauge', samples };
}

interface PortGroup {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
  total: number;
  readonly states: Map<string, number>;
}

/**
 * Listening ports (TCP LISTEN, bound unconnected UDP) and every socket whose local port is one
 * of them (the inbound side), per protocol group. Ordered by total, then protocol and port.
 */
export function countListeningPorts(sockets: readonly SocketRecord[]): PortGroup[] {
  const listening = new Set<string>();
  for (const s of sockets) {
    const group = PROTOCOL_GROUP[s.protocol];
    if (group === 'tcp' && s.state === 'LISTEN') listening.add(`tcp/${s.localPort}`);
    else if (group === 'udp' && s.state === 'UNCONN' && s.localPort !== 0) listening.add(`udp/${s.localPort}`);
  }
  const groups = new Map<string, PortGroup>();
  for (const s of sockets) {
    const group = PROTOCOL_GROUP[s.protocol];
    if (group !== 'tcp' && group !== 'udp') continue;
    const key = `${group}/${s.localPort}`;
    if (!listening.has(key)) continue;
    let g = groups.get(key);
    if (g === undefined) {
      g = { protocol: group, port: s.localPort, total: 0, states: new Map() };
      groups.set(key, g);
    }
    g.total += 1;
    g.states.set(s.state, (g.states.get(s.state) ?? 0) + 1);
  }
  return [...groups.values()].sort((a, b) => b.total - a.total || a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

function portFamilies(sockets: readonly SocketRecord[], maxPorts: number): MetricFamily[] {
  const ports = countListeningPorts(sockets);
  const shown = ports.slice(0, Math.max(0, maxPorts));
  const samples: MetricSample[] = [];
  for (const g of shown) {
    for (const [state, n] of [...g.states].sort((a, b) => a[0].localeCompare(b[0]))) {
      samples.push({
        labels: [
          ['protocol', g.protocol],
          ['port', String(g.port)],
          ['state', state],
        ],
        value: n,
      });
    }
  }
  const listeningByGroup = { tcp: 0, udp: 0 };
  for (const g of ports) listeningByGroup[g.protocol] += 1;
  return [
    {
      name: 'sockscope_port_sockets',
      help: 'Sockets on a listening port (the listener and its inbound connections) per state; only the busiest ports (--max-ports).',
      type: 'gauge',
      samples,
    },
    {
      name: 'sockscope_listening_ports',
      help: 'Listening ports (TCP LISTEN, bound unconnected UDP), including those left out of sockscope_port_sockets.',
      type: 'gauge',
      samples: [
        { labels: [['protocol', 'tcp']], value: listeningByGroup.tcp },
        { labels: [['protocol', 'udp']], value: listeningByGroup.udp },
      ],
    },
  ];
}

/**
 * TCP listeners' current accept queue (Recv-Q of LISTEN sockets in /proc/net/tcp), summed per
 * address and port (SO_REUSEPORT groups share one series). The fullest first, at most `max`.
 */
function acceptQueueFamily(sockets: readonly SocketRecord[], max: number): MetricFamily {
  const queues = new Map<string, { address: string; port: number; queue: number }>();
  for (const s of sockets) {
    if (PROTOCOL_GROUP[s.protocol] !== 'tcp' || s.state !== 'LISTEN') continue;
    const key = `${s.localAddress} ${s.localPort}`;
    const q = queues.get(key);
    if (q === undefined) queues.set(key, { address: s.localAddress, port: s.localPort, queue: s.recvQ });
    else q.queue += s.recvQ;
  }
  const rows = [...queues.values()]
    .sort((a, b) => b.queue - a.queue || a.port - b.port || a.address.localeCompare(b.address))
    .slice(0, Math.max(0, max));
  return {
    name: 'sockscope_listener_accept_queue',
    help: 'Connections waiting in a TCP listener accept queue (Recv-Q of LISTEN), per local address and port; the fullest --max-ports.',
    type: 'gauge',
    samples: rows.map((r) => ({
      labels: [
        ['address', r.address],
        ['port', String(r.port)],
      ],
      value: r.queue,
    })),
  };
}

function counterFamilies(counters: KernelCounters): MetricFamily[] {
  const families: MetricFamily[] = [];
  for (const c of COUNTER_METRICS) {
    const value = counters[c.key];
    if (value === undefined) continue; // not in this kernel (or this recorded tree)
    families.push({ name: c.name, help: c.help, type: 'counter', samples: [{ labels: [], value }] });
  }
  return families;
}

function netnsFamily(rows: readonly NetnsMetricsRow[]): MetricFamily {
  const samples: MetricSample[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (seen.has(row.netns)) continue; // one row per namespace
    seen.add(row.netns);
    for (const group of GROUPS) {
      for (const [state, n] of Object.entries(row.counts[group]).sort((a, b) => a[0].localeCompare(b[0]))) {
        if (n === undefined || n === 0) continue;
        samples.push({
          labels: [
            ['netns', row.netns],
            ['process', row.process],
            ['protocol', group],
            ['state', state],
          ],
          value: n,
        });
      }
    }
  }
  return {
    name: 'sockscope_netns_sockets',
    help: 'Sockets per network namespace, protocol and state (serve --all-netns); process is the comm of the lowest pid in it; zero counts are left out.',
    type: 'gauge',
    samples,
  };
}

/** Every metric family for one collection, in a stable order. */
export function buildMetricFamilies(input: MetricsInput): MetricFamily[] {
  const families: MetricFamily[] = [
    socketFamily(input.sockets),
    ...portFamilies(input.sockets, input.maxPorts),
    acceptQueueFamily(input.sockets, input.maxPorts),
    ...counterFamilies(input.counters),
  ];
  if (input.namespaces !== undefined && input.namespaces !== null) families.push(netnsFamily(input.namespaces));
  families.push(
    {
      name: 'sockscope_collect_seconds',
      help: 'Time the last collection took (reading and parsing /proc), seconds.',
      type: 'gauge',
      samples: [{ labels: [], value: input.collectSeconds }],
    },
    {
      name: 'sockscope_scrape_timestamp_seconds',
      help: 'When the data served was collected, seconds since the epoch (older than the scrape when served from the cache).',
      type: 'gauge',
      samples: [{ labels: [], value: input.takenAtMs / 1000 }],
    },
    {
      name: 'sockscope_build_info',
      help: 'Always 1; the version label says which sockscope serves the metrics.',
      type: 'gauge',
      samples: [{ labels: [['version', input.version]], value: 1 }],
    },
  );
  return families;
}

/** The whole exposition, ending with a newline. */
export function renderMetrics(input: MetricsInput): string {
  return `${buildMetricFamilies(input).map(renderFamily).join('\n')}\n`;
}
