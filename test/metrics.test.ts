// renderMetrics: the Prometheus text exposition, checked line by line with a strict parser
// (test/helpers/prometheus-text.ts), and the figures behind each family.

import { describe, expect, it } from 'vitest';
import {
  COUNTER_METRICS,
  countListeningPorts,
  escapeHelp,
  escapeLabelValue,
  formatValue,
  renderFamily,
  renderMetrics,
  type MetricsInput,
} from '../src/model/metrics.js';
import type { SocketRecord } from '../src/model/types.js';
import { parseExposition, sampleValue } from './helpers/prometheus-text.js';

let nextInode = 1000;

/** A socket record: TCP ESTABLISHED 127.0.0.1:40000 → 127.0.0.1:80 unless overridden. */
function rec(o: Partial<SocketRecord> = {}): SocketRecord {
  const protocol = o.protocol ?? 'tcp';
  const unix = protocol === 'unix';
  const localAddress = o.localAddress ?? (unix ? '' : '127.0.0.1');
  const localPort = o.localPort ?? (unix ? 0 : 40000);
  const remoteAddress = o.remoteAddress ?? (unix ? '' : '127.0.0.1');
  const remotePort = o.remotePort ?? (unix ? 0 : 80);
  const inode = o.inode ?? nextInode++;
  return {
    key: `${protocol} ${localAddress}:${localPort} ${remoteAddress}:${remotePort} ${inode}`,
    protocol,
    state: o.state ?? (unix ? 'CONNECTED' : 'ESTABLISHED'),
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    recvQ: o.recvQ ?? 0,
    sendQ: 0,
    timer: 'off',
    timerMs: 0,
    retransmits: 0,
    uid: 0,
    inode,
    rtoMs: null,
    atoMs: null,
    cwnd: null,
    ssthresh: null,
    drops: null,
    path: o.path ?? null,
    unixType: unix ? 'stream' : null,
    owner: null,
    sharedBy: 0,
    user: 'root',
  };
}

function input(sockets: readonly SocketRecord[], extra: Partial<MetricsInput> = {}): MetricsInput {
  return {
    sockets,
    counters: { 'Tcp.ActiveOpens': 12, 'Tcp.PassiveOpens': 7, 'TcpExt.ListenOverflows': 3, 'Udp.NoPorts': 1 },
    takenAtMs: 1_700_000_000_500,
    collectSeconds: 0.0125,
    maxPorts: 50,
    version: '0.1.0',
    ...extra,
  };
}

const listener = (port: number, recvQ = 0, localAddress = '0.0.0.0'): SocketRecord =>
  rec({ state: 'LISTEN', localAddress, localPort: port, remoteAddress: '0.0.0.0', remotePort: 0, recvQ });
const inbound = (port: number, state: SocketRecord['state'] = 'ESTABLISHED', peerPort = 50000): SocketRecord =>
  rec({ state, localPort: port, remotePort: peerPort });

const SOCKETS: readonly SocketRecord[] = [
  listener(8080, 2),
  listener(8080, 1), // SO_REUSEPORT: same address and port, one series
  inbound(8080, 'ESTABLISHED', 50001),
  inbound(8080, 'ESTABLISHED', 50002),
  inbound(8080, 'CLOSE_WAIT', 50003),
  listener(22, 0, '::'),
  rec({ protocol: 'tcp6', state: 'ESTABLISHED', localAddress: '::1', localPort: 22, remoteAddress: '::1', remotePort: 40000 }),
  rec({ state: 'ESTABLISHED', localPort: 41000, remotePort: 443 }), // outbound: no listening port
  rec({ state: 'TIME_WAIT', localPort: 41001, remotePort: 443, inode: 0 }),
  rec({ protocol: 'udp', state: 'UNCONN', localAddress: '0.0.0.0', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0 }),
  rec({ protocol: 'unix', state: 'LISTENING', path: '/run/x.sock' }),
  rec({ protocol: 'unix', state: 'CONNECTED' }),
];

describe('renderMetrics', () => {
  const text = renderMetrics(input(SOCKETS));
  const families = parseExposition(text);

  it('is valid exposition text: HELP and TYPE before samples, no duplicate series, newline at the end', () => {
    expect(families.length).toBeGreaterThan(5);
    for (const f of families) {
      expect(f.help, f.name).not.toBeNull();
      expect(f.type === 'gauge' || f.type === 'counter', f.name).toBe(true);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
      expect(f.name).toMatch(/^sockscope_/);
    }
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toMatch(/\n\n/);
  });

  it('every line is a comment or "name{labels} value"', () => {
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(
        /^(# (HELP|TYPE) sockscope_\w+ .+|sockscope_\w+(\{[a-z_]+="[^"\n]*"(,[a-z_]+="[^"\n]*")*\})? [-+0-9.eE]+|.*NaN|.*Inf)$/,
      );
    }
  });

  it('counts sockets per protocol group and state, with every usual state present (0 when absent)', () => {
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'ESTABLISHED' })).toBe(4);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'LISTEN' })).toBe(3);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'TIME_WAIT' })).toBe(1);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'SYN_SENT' })).toBe(0);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'udp', state: 'UNCONN' })).toBe(1);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'unix', state: 'LISTENING' })).toBe(1);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'raw', state: 'UNCONN' })).toBe(0);
  });

  it('counts listening ports with their inbound sockets, leaving outbound connections out', () => {
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: '8080', state: 'LISTEN' })).toBe(2);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: '8080', state: 'ESTABLISHED' })).toBe(2);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: '8080', state: 'CLOSE_WAIT' })).toBe(1);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: '22', state: 'ESTABLISHED' })).toBe(1);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'udp', port: '53', state: 'UNCONN' })).toBe(1);
    expect(sampleValue(families, 'sockscope_port_sockets', { port: '41000' })).toBeUndefined();
    expect(sampleValue(families, 'sockscope_listening_ports', { protocol: 'tcp' })).toBe(2);
    expect(sampleValue(families, 'sockscope_listening_ports', { protocol: 'udp' })).toBe(1);
  });

  it('sums the accept queue of listeners sharing an address and port', () => {
    expect(sampleValue(families, 'sockscope_listener_accept_queue', { address: '0.0.0.0', port: '8080' })).toBe(3);
    expect(sampleValue(families, 'sockscope_listener_accept_queue', { address: '::', port: '22' })).toBe(0);
    expect(families.find((f) => f.name === 'sockscope_listener_accept_queue')?.samples).toHaveLength(2);
  });

  it('exports the kernel counters it has as counters, and leaves out the ones it has not', () => {
    expect(sampleValue(families, 'sockscope_tcp_active_opens_total')).toBe(12);
    expect(sampleValue(families, 'sockscope_tcp_passive_opens_total')).toBe(7);
    expect(sampleValue(families, 'sockscope_tcp_listen_overflows_total')).toBe(3);
    expect(sampleValue(families, 'sockscope_udp_no_ports_total')).toBe(1);
    expect(families.find((f) => f.name === 'sockscope_tcp_retransmitted_segments_total')).toBeUndefined();
    expect(families.find((f) => f.name === 'sockscope_tcp_active_opens_total')?.type).toBe('counter');
  });

  it('reports collection time, data timestamp and version', () => {
    expect(sampleValue(families, 'sockscope_collect_seconds')).toBe(0.0125);
    expect(sampleValue(families, 'sockscope_scrape_timestamp_seconds')).toBe(1_700_000_000.5);
    expect(sampleValue(families, 'sockscope_build_info', { version: '0.1.0' })).toBe(1);
  });

  it('lists the families in a stable order', () => {
    expect(families.map((f) => f.name).slice(0, 4)).toEqual([
      'sockscope_sockets',
      'sockscope_port_sockets',
      'sockscope_listening_ports',
      'sockscope_listener_accept_queue',
    ]);
    expect(families.at(-1)?.name).toBe('sockscope_build_info');
  });
});

describe('bounds', () => {
  const many = Array.from({ length: 30 }, (_, i) => [
    listener(9000 + i, i),
    ...Array.from({ length: i }, (_, k) => inbound(9000 + i, 'ESTABLISHED', 40000 + k)),
  ]).flat();

  it('keeps only the busiest --max-ports ports and the fullest listeners', () => {
    const families = parseExposition(renderMetrics(input(many, { maxPorts: 3 })));
    const ports = new Set(families.find((f) => f.name === 'sockscope_port_sockets')?.samples.map((s) => s.labels['port']));
    expect([...ports].sort()).toEqual(['9027', '9028', '9029']);
    expect(sampleValue(families, 'sockscope_listening_ports', { protocol: 'tcp' })).toBe(30);
    const queues = families.find((f) => f.name === 'sockscope_listener_accept_queue')?.samples.map((s) => s.value);
    expect(queues).toEqual([29, 28, 27]);
  });

  it('--max-ports 0 exports no per-port series but still the families', () => {
    const families = parseExposition(renderMetrics(input(many, { maxPorts: 0 })));
    expect(families.find((f) => f.name === 'sockscope_port_sockets')?.samples).toEqual([]);
  });

  it('orders ports by total, then protocol and port', () => {
    const groups = countListeningPorts([listener(81), listener(80), inbound(81)]);
    expect(groups.map((g) => g.port)).toEqual([81, 80]);
  });
});

describe('per-namespace counts', () => {
  it('exports nonzero counts per namespace, with hostile process names escaped', () => {
    const text = renderMetrics(
      input([], {
        namespaces: [
          {
            netns: 'net:[4026531840]',
            process: 'systemd',
            counts: { tcp: { LISTEN: 3, ESTABLISHED: 0 }, udp: {}, raw: {}, unix: { CONNECTED: 9 } },
          },
          { netns: 'net:[4026532281]', process: 'evil"\\\nname', counts: { tcp: { LISTEN: 1 }, udp: {}, raw: {}, unix: {} } },
        ],
      }),
    );
    expect(text).toContain('process="evil\\"\\\\\\nname"');
    const families = parseExposition(text);
    const netns = families.find((f) => f.name === 'sockscope_netns_sockets');
    expect(netns?.samples).toHaveLength(3);
    expect(sampleValue(families, 'sockscope_netns_sockets', { netns: 'net:[4026532281]', state: 'LISTEN' })).toBe(1);
    expect(sampleValue(families, 'sockscope_netns_sockets', { netns: 'net:[4026532281]' })).toBe(1);
    expect(netns?.samples.find((s) => s.labels['netns'] === 'net:[4026532281]')?.labels['process']).toBe('evil"\\\nname');
    expect(sampleValue(families, 'sockscope_netns_sockets', { netns: 'net:[4026531840]', state: 'ESTABLISHED' })).toBeUndefined();
  });

  it('is absent without --all-netns', () => {
    expect(renderMetrics(input([]))).not.toContain('sockscope_netns_sockets');
  });
});

describe('escaping and values', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\"\n', '\\\\\\"\\n'],
  ])('label value %j → %j', (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
  });

  it('HELP text escapes backslash and newline but not quotes', () => {
    expect(escapeHelp('a\\b\n"c"')).toBe('a\\\\b\\n"c"');
  });

  it.each([
    [0, '0'],
    [42, '42'],
    [0.25, '0.25'],
    [1e21, '1e+21'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('value %d → %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
  });

  it('a family with labels needing escapes parses back to the same values', () => {
    const text = renderFamily({
      name: 'x_test',
      help: 'help with \\ and\nnewline',
      type: 'gauge',
      samples: [
        { labels: [['path', 'C:\\dir\\"q"\n']], value: 1 },
        { labels: [['path', '']], value: NaN },
      ],
    });
    const [family] = parseExposition(`${text}\n`);
    expect(family?.help).toBe('help with \\ and\nnewline');
    expect(family?.samples.map((s) => s.labels['path'])).toEqual(['C:\\dir\\"q"\n', '']);
    expect(Number.isNaN(family?.samples[1]?.value)).toBe(true);
  });
});

describe('the exposition parser used here rejects what the format forbids', () => {
  it.each([
    ['sample before HELP/TYPE', 'a 1\n'],
    ['duplicate series', '# HELP a h\n# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['TYPE after samples', '# HELP a h\n# TYPE a gauge\na 1\n# TYPE a gauge\n'],
    ['unescaped quote', '# HELP a h\n# TYPE a gauge\na{x="a"b"} 1\n'],
    ['bad escape', '# HELP a h\n# TYPE a gauge\na{x="\\t"} 1\n'],
    ['no value', '# HELP a h\n# TYPE a gauge\na{x="1"}\n'],
    ['split family', '# HELP a h\n# TYPE a gauge\na 1\n# HELP b h\n# TYPE b gauge\nb 1\na{x="2"} 1\n'],
    ['no final newline', '# HELP a h\n# TYPE a gauge\na 1'],
  ])('%s', (_name, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('every exported counter name is unique and ends in _total', () => {
    const names = COUNTER_METRICS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^sockscope_[a-z_]+_total$/);
  });
});
