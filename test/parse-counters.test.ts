import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePortRange, parseSnmpTable, parseSockstat } from '../src/proc/parse-counters.js';

// Copied from this machine's /proc (Linux 6.18) while the fixture sockets were open.
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/proc-text/recorded/${name}`, import.meta.url), 'utf8');

describe('parseSnmpTable on recorded /proc/net/snmp', () => {
  const c = parseSnmpTable(fixture('snmp'));

  it.each<[string, number]>([
    ['Ip.Forwarding', 2],
    ['Ip.DefaultTTL', 64],
    ['Ip.InReceives', 64782],
    ['Ip.OutTransmits', 64201],
    ['Icmp.InDestUnreachs', 1],
    ['IcmpMsg.InType3', 1],
    ['Tcp.RtoMin', 200],
    ['Tcp.RtoMax', 120000],
    ['Tcp.MaxConn', -1],
    ['Tcp.ActiveOpens', 7574],
    ['Tcp.CurrEstab', 17],
    ['Tcp.RetransSegs', 10263],
    ['Tcp.InCsumErrors', 0],
    ['Udp.InErrors', 147],
    ['Udp.RcvbufErrors', 147],
    ['UdpLite.InDatagrams', 0],
  ])('%s = %d', (key, value) => {
    expect(c[key]).toBe(value);
  });

  it('has one key per header name', () => {
    // Ip 20 + Icmp 29 + IcmpMsg 1 + Tcp 15 + Udp 9 + UdpLite 9
    expect(Object.keys(c)).toHaveLength(83);
  });
});

describe('parseSnmpTable on recorded /proc/net/netstat', () => {
  const c = parseSnmpTable(fixture('netstat'));

  it.each<[string, number]>([
    ['TcpExt.SyncookiesSent', 3600],
    ['TcpExt.ListenOverflows', 10461],
    ['TcpExt.ListenDrops', 10461],
    ['TcpExt.TCPTimeouts', 8901],
    ['TcpExt.TCPAbortOnData', 37],
    ['IpExt.InOctets', 250998424],
    ['MPTcpExt.MPCapableSYNRX', 0],
  ])('%s = %d', (key, value) => {
    expect(c[key]).toBe(value);
  });

  it('has one key per header name', () => {
    // TcpExt 135 + IpExt 18 + MPTcpExt 76 (field counts of the header lines minus the prefix)
    expect(Object.keys(c)).toHaveLength(135 + 18 + 76);
  });
});

describe('parseSnmpTable on hand-written text', () => {
  it.each<[string, string, Record<string, number>]>([
    ['empty', '', {}],
    ['header without values', 'Tcp: A B\n', {}],
    ['one pair', 'Tcp: A B\nTcp: 1 -2\n', { 'Tcp.A': 1, 'Tcp.B': -2 }],
    ['u64 beyond 2^53 kept as a Number', 'IpExt: InOctets\nIpExt: 18446744073709551615\n', { 'IpExt.InOctets': 18446744073709551615 }],
    ['mismatched count: pair skipped, next pair read', 'Tcp: A B\nTcp: 1\nUdp: C\nUdp: 3\n', { 'Udp.C': 3 }],
    ['mismatched prefix: resync on the next line', 'Tcp: A\nUdp: C\nUdp: 3\n', { 'Udp.C': 3 }],
    ['lone value line before a pair', 'Tcp: 5\nUdp: C\nUdp: 3\n', { 'Udp.C': 3 }],
    ['non-integer value skipped alone', 'Tcp: A B\nTcp: x 2\n', { 'Tcp.B': 2 }],
    ['blank lines between', '\nTcp: A\n\nTcp: 4\n\n', { 'Tcp.A': 4 }],
    ['trailing spaces', 'TcpExt: A B \nTcpExt: 1 2 \n', { 'TcpExt.A': 1, 'TcpExt.B': 2 }],
  ])('%s', (_what, text, expected) => {
    expect(parseSnmpTable(text)).toEqual(expected);
  });
});

describe('parseSockstat', () => {
  it('recorded sockstat', () => {
    expect(parseSockstat(fixture('sockstat'))).toEqual({
      'sockets.used': 62,
      'TCP.inuse': 19,
      'TCP.orphan': 0,
      'TCP.tw': 1,
      'TCP.alloc': 24,
      'TCP.mem': 867,
      'UDP.inuse': 4,
      'UDP.mem': 0,
      'UDPLITE.inuse': 0,
      'RAW.inuse': 1,
      'FRAG.inuse': 0,
      'FRAG.memory': 0,
    });
  });

  it('recorded sockstat6', () => {
    expect(parseSockstat(fixture('sockstat6'))).toEqual({
      'TCP6.inuse': 5,
      'UDP6.inuse': 1,
      'UDPLITE6.inuse': 0,
      'RAW6.inuse': 1,
      'FRAG6.inuse': 0,
      'FRAG6.memory': 0,
    });
  });

  it.each<[string, string, Record<string, number>]>([
    ['empty', '', {}],
    ['odd field count keeps the pairs that parse', 'TCP: inuse 3 orphan\n', { 'TCP.inuse': 3 }],
    ['non-integer value skipped', 'TCP: inuse x tw 2\n', { 'TCP.tw': 2 }],
    ['line without prefix ignored', 'garbage 1 2\nUDP: inuse 1\n', { 'UDP.inuse': 1 }],
  ])('%s', (_what, text, expected) => {
    expect(parseSockstat(text)).toEqual(expected);
  });
});

describe('parsePortRange', () => {
  it('recorded ip_local_port_range (tab-separated)', () => {
    expect(parsePortRange(fixture('ip_local_port_range'))).toEqual({ low: 32768, high: 60999 });
  });

  it.each<[string, { low: number; high: number } | null]>([
    ['1024 65535\n', { low: 1024, high: 65535 }],
    ['5000 5000', { low: 5000, high: 5000 }],
    ['', null],
    ['32768', null],
    ['1 2 3', null],
    ['abc 60999', null],
    ['60999 32768', null],
    ['-1 100', null],
    ['1024 70000', null],
    ['1.5 2', null],
  ])('%j', (text, expected) => {
    expect(parsePortRange(text)).toEqual(expected);
  });
});
