import { describe, expect, it } from 'vitest';

import { SS_STATE_OF, STATE_GROUP_MEMBERS, compileFilterAst, statesMatching } from '../src/filter/evaluate.js';
import { compileFilter, describeFilter } from '../src/filter/index.js';
import { STATE_WORDS, type StateName } from '../src/filter/ast.js';
import type { Protocol, SocketOwner, SocketRecord, SocketState } from '../src/model/types.js';

// ---------------------------------------------------------------------------------------------
// Fixtures

function owner(pid: number, command: string, uid = 0): SocketOwner {
  return { pid, command, commandLine: command, uid, fd: 3 };
}

/** A SocketRecord with harmless defaults; tests set only what they are about. */
function socket(fields: Partial<SocketRecord> & { protocol: Protocol; state: SocketState }): SocketRecord {
  const base: SocketRecord = {
    key: '',
    protocol: fields.protocol,
    state: fields.state,
    localAddress: '',
    localPort: 0,
    remoteAddress: '',
    remotePort: 0,
    recvQ: 0,
    sendQ: 0,
    timer: 'off',
    timerMs: 0,
    retransmits: 0,
    uid: 0,
    inode: 1,
    rtoMs: null,
    atoMs: null,
    cwnd: null,
    ssthresh: null,
    drops: null,
    path: null,
    unixType: null,
    owner: null,
    sharedBy: 0,
    user: 'root',
  };
  const s = { ...base, ...fields };
  return { ...s, key: `${s.protocol} ${s.localAddress}:${s.localPort} ${s.remoteAddress}:${s.remotePort} ${s.inode}` };
}

const tcp = (
  state: SocketState,
  local: string,
  lport: number,
  remote: string,
  rport: number,
  more: Partial<SocketRecord> = {},
): SocketRecord =>
  socket({
    protocol: local.includes(':') ? 'tcp6' : 'tcp',
    state,
    localAddress: local,
    localPort: lport,
    remoteAddress: remote,
    remotePort: rport,
    ...more,
  });

/** Named sockets; the tables below list which names a filter must select. */
const ZOO = {
  curl: tcp('ESTABLISHED', '10.0.0.5', 43512, '93.184.216.34', 443, { owner: owner(100, 'curl', 1000), uid: 1000, user: 'alice' }),
  sshd: tcp('LISTEN', '0.0.0.0', 22, '0.0.0.0', 0, { owner: owner(1, 'sshd') }),
  ssh_in: tcp('ESTABLISHED', '10.0.0.5', 22, '192.168.1.9', 50022, { owner: owner(2, 'sshd') }),
  pg6: tcp('LISTEN', '::', 5432, '::', 0, { owner: owner(300, 'postgres', 114), uid: 114, user: 'postgres' }),
  node_mapped: tcp('ESTABLISHED', '::ffff:10.1.2.3', 8080, '::ffff:192.168.1.20', 51000, {
    owner: owner(400, 'node', 1001),
    uid: 1001,
    user: '1001',
  }),
  tw: tcp('TIME_WAIT', '127.0.0.1', 8000, '127.0.0.1', 40000, { inode: 0 }),
  synrecv: tcp('NEW_SYN_RECV', '10.0.0.5', 443, '203.0.113.7', 61000, { inode: 0 }),
  synsent: tcp('SYN_SENT', '10.0.0.5', 50000, '1.1.1.1', 443, { owner: owner(100, 'curl', 1000), uid: 1000, user: 'alice' }),
  cw6: tcp('CLOSE_WAIT', 'fe80::1', 9000, 'fe80::2', 33000, { owner: owner(500, 'nginx: worker', 33), uid: 33, user: 'www-data' }),
  finwait: tcp('FIN_WAIT2', '2001:db8::5', 443, '2001:db8:1::9', 40001, { owner: owner(501, 'nginx', 33), uid: 33, user: 'www-data' }),
  dns: socket({
    protocol: 'udp',
    state: 'UNCONN',
    localAddress: '127.0.0.53',
    localPort: 53,
    remoteAddress: '0.0.0.0',
    owner: owner(600, 'systemd-resolve', 990),
    uid: 990,
    user: 'systemd-resolve',
  }),
  mdns6: socket({ protocol: 'udp6', state: 'ESTABLISHED', localAddress: '::1', localPort: 5353, remoteAddress: '::1', remotePort: 6000 }),
  ping: socket({ protocol: 'raw', state: 'UNCONN', localAddress: '0.0.0.0', localPort: 1, remoteAddress: '0.0.0.0' }),
  docker: socket({ protocol: 'unix', state: 'LISTENING', path: '/run/docker.sock', unixType: 'stream', owner: owner(700, 'dockerd') }),
  web_unix: socket({
    protocol: 'unix',
    state: 'CONNECTED',
    unixType: 'stream',
    owner: owner(800, 'Web Content', 1000),
    uid: 1000,
    user: 'alice',
  }),
  journal: socket({ protocol: 'unix', state: 'UNCONNECTED', path: '@/org/journal', unixType: 'dgram' }),
} satisfies Record<string, SocketRecord>;

type Name = keyof typeof ZOO;
const NAMES = Object.keys(ZOO) as Name[];

function selected(text: string): Name[] {
  const r = compileFilter(text);
  if (!r.ok) throw new Error(`unexpected error at column ${r.error.column}: ${r.error.message}`);
  return NAMES.filter((n) => r.filter(ZOO[n]));
}

const INET: Name[] = NAMES.filter((n) => ZOO[n].protocol !== 'unix');

// ---------------------------------------------------------------------------------------------

describe('compileFilter: which sockets each filter selects', () => {
  const cases: readonly (readonly [string, readonly Name[]])[] = [
    ['', NAMES],
    ['   ', NAMES],
    // ports; UNIX sockets never match a port
    ['port 22', ['sshd', 'ssh_in']],
    ['22', ['sshd', 'ssh_in']],
    [':443', ['curl', 'synrecv', 'synsent', 'finwait']],
    ['sport 443', ['synrecv', 'finwait']],
    ['dport 443', ['curl', 'synsent']],
    ['sport = :443', ['synrecv', 'finwait']],
    ['sport == 443', ['synrecv', 'finwait']],
    ['dport eq 443', ['curl', 'synsent']],
    ['dport != :443', NAMES.filter((n) => !['curl', 'synsent'].includes(n))],
    ['port 0', ['sshd', 'pg6', 'dns', 'ping']],
    ['sport < 1024', ['sshd', 'ssh_in', 'synrecv', 'finwait', 'dns', 'ping']],
    ['sport lt 1024', ['sshd', 'ssh_in', 'synrecv', 'finwait', 'dns', 'ping']],
    ['sport <= 22', ['sshd', 'ssh_in', 'ping']],
    ['sport < 22', ['ping']],
    ['sport > 49999', ['synsent']],
    ['port > 60999', ['synrecv']],
    ['sport > :50000', []],
    ['sport >= 50000', ['synsent']],
    ['dport gt 50000', ['ssh_in', 'node_mapped', 'synrecv']],
    ['dport ge 50022', ['ssh_in', 'node_mapped', 'synrecv']],
    ['port 5000-6000', ['pg6', 'mdns6']],
    ['sport 8000-8080', ['node_mapped', 'tw']],
    ['dport 40000-40001', ['tw', 'finwait']],
    ['port != 5000-6000', NAMES.filter((n) => !['pg6', 'mdns6'].includes(n))],
    // states
    ['state established', ['curl', 'ssh_in', 'node_mapped', 'mdns6', 'web_unix']],
    ['state ESTABLISHED', ['curl', 'ssh_in', 'node_mapped', 'mdns6', 'web_unix']],
    ['state estab', ['curl', 'ssh_in', 'node_mapped', 'mdns6', 'web_unix']],
    ['state listen', ['sshd', 'pg6', 'docker']],
    ['state LISTENING', ['sshd', 'pg6', 'docker']],
    ['state time-wait', ['tw']],
    ['state tw', ['tw']],
    ['state TIME_WAIT', ['tw']],
    ['state syn-recv', ['synrecv']],
    ['state SYN_RECV', ['synrecv']],
    ['state syn-sent', ['synsent']],
    ['state close-wait', ['cw6']],
    ['state cw', ['cw6']],
    ['state fin-wait-2', ['finwait']],
    ['state FIN_WAIT1', []],
    ['state closed', ['dns', 'ping', 'journal']],
    ['state unconn', ['dns', 'ping', 'journal']],
    ['state connected', ['curl', 'ssh_in', 'node_mapped', 'synsent', 'cw6', 'finwait', 'mdns6', 'web_unix']],
    ['state CONNECTED', ['curl', 'ssh_in', 'node_mapped', 'synsent', 'cw6', 'finwait', 'mdns6', 'web_unix']],
    ['state synchronized', ['curl', 'ssh_in', 'node_mapped', 'cw6', 'finwait', 'mdns6', 'web_unix']],
    ['state bucket', ['tw', 'synrecv']],
    ['state big', NAMES.filter((n) => n !== 'tw' && n !== 'synrecv')],
    ['state all', NAMES],
    ['state != listen', NAMES.filter((n) => !['sshd', 'pg6', 'docker'].includes(n))],
    // addresses, IPv4 also matching the v4-mapped form
    ['host 10.0.0.5', ['curl', 'ssh_in', 'synrecv', 'synsent']],
    ['src 10.0.0.0/8', ['curl', 'ssh_in', 'node_mapped', 'synrecv', 'synsent']],
    ['host 10.1.2.3', ['node_mapped']],
    ['host ::ffff:10.1.2.3', ['node_mapped']],
    ['host ::ffff:10.0.0.0/104', ['curl', 'ssh_in', 'node_mapped', 'synrecv', 'synsent']],
    ['dst 192.168.0.0/16', ['ssh_in', 'node_mapped']],
    ['dst 192.168.1.9', ['ssh_in']],
    ['src 127.0.0.0/8', ['tw', 'dns']],
    ['host 127.0.0.1', ['tw']],
    ['host 0.0.0.0', ['sshd', 'dns', 'ping']],
    ['src 0.0.0.0/0', ['curl', 'sshd', 'ssh_in', 'node_mapped', 'tw', 'synrecv', 'synsent', 'dns', 'ping']],
    ['host ::1', ['mdns6']],
    ['host ::', ['pg6']],
    ['src fe80::/10', ['cw6']],
    ['dst fe80::2', ['cw6']],
    ['src fe80::2', []],
    ['host 2001:db8::/32', ['finwait']],
    ['dst 2001:db8:1::/48', ['finwait']],
    ['src 2001:db8:1::/48', []],
    ['src 127.0.0.1:8000', ['tw']],
    ['src 127.0.0.1:8001', []],
    ['dst 127.0.0.1:40000', ['tw']],
    ['host 10.0.0.5:22', ['ssh_in']],
    ['dst [::1]:6000', ['mdns6']],
    ['src [::1]:6000', []],
    ['src *:53', ['dns']],
    ['10.0.0.5', ['curl', 'ssh_in', 'synrecv', 'synsent']],
    ['host != 10.0.0.0/8', NAMES.filter((n) => !['curl', 'ssh_in', 'node_mapped', 'synrecv', 'synsent'].includes(n))],
    // UNIX paths
    ['src /run/docker.sock', ['docker']],
    ['src /run/*.sock', ['docker']],
    ['host @/org/*', ['journal']],
    ['src /nope', []],
    // owners
    ['proc sshd', ['sshd', 'ssh_in']],
    ['proc ssh', []],
    ['proc ssh*', ['sshd', 'ssh_in']],
    ['proc nginx', ['finwait']],
    ['proc nginx*', ['cw6', 'finwait']],
    ['proc "nginx: worker"', ['cw6']],
    ['proc ?url', ['curl', 'synsent']],
    ['proc "Web Content"', ['web_unix']],
    ['proc "Web*"', ['web_unix']],
    ['proc 100', ['curl', 'synsent']],
    ['pid 1', ['sshd']],
    ['pid 99999', []],
    ['user alice', ['curl', 'synsent', 'web_unix']],
    ['user 1000', ['curl', 'synsent', 'web_unix']],
    ['user 1001', ['node_mapped']],
    ['user root', ['sshd', 'ssh_in', 'tw', 'synrecv', 'mdns6', 'ping', 'docker', 'journal']],
    ['user 0', ['sshd', 'ssh_in', 'tw', 'synrecv', 'mdns6', 'ping', 'docker', 'journal']],
    ['user www-data', ['cw6', 'finwait']],
    // protocols
    ['tcp', ['curl', 'sshd', 'ssh_in', 'pg6', 'node_mapped', 'tw', 'synrecv', 'synsent', 'cw6', 'finwait']],
    ['proto tcp6', ['pg6', 'node_mapped', 'cw6', 'finwait']],
    ['udp', ['dns', 'mdns6']],
    ['proto udp6', ['mdns6']],
    ['proto raw', ['ping']],
    ['proto raw6', []],
    ['unix', ['docker', 'web_unix', 'journal']],
    ['proto inet', ['curl', 'sshd', 'ssh_in', 'tw', 'synrecv', 'synsent', 'dns', 'ping']],
    ['proto inet6', ['pg6', 'node_mapped', 'cw6', 'finwait', 'mdns6']],
    ['not unix', INET],
    // combinations
    ['state established dport 443', ['curl']],
    ['tcp and state listen', ['sshd', 'pg6']],
    ['state listen and not tcp', ['docker']],
    ['udp or unix', ['dns', 'mdns6', 'docker', 'web_unix', 'journal']],
    ['udp || raw && port 1', ['dns', 'mdns6', 'ping']],
    ['(udp || raw) && port 53', ['dns']],
    ['!tcp && !unix', ['dns', 'mdns6', 'ping']],
    ['dport 443 and not host 10.0.0.0/8', []],
    ['port 443 and not host 10.0.0.0/8', ['finwait']],
    ['state close-wait and proc nginx*', ['cw6']],
    ['user alice and not unix or pid 1', ['curl', 'synsent', 'sshd']],
    ['proc curl dport 443 state syn-sent', ['synsent']],
    ['not (tcp or udp or raw)', ['docker', 'web_unix', 'journal']],
    ['sport = :22 or sport = :5432 or sport = :53 or sport = :1', ['sshd', 'ssh_in', 'pg6', 'dns', 'ping']],
  ];
  it.each(cases)('%j', (text, expected) => {
    expect(selected(text)).toEqual(NAMES.filter((n) => expected.includes(n)));
  });
});

describe('compiled filters agree with their normalised text and with negation', () => {
  const filters = [
    'dport != :22 and state connected',
    'port 5000-6000 or src 10.0.0.0/8:443 or proc "nginx*"',
    '!(tcp or udp) || user 1000',
    'state bucket sport > 1024',
    'host ::ffff:10.0.0.0/104 or dst [2001:db8::/32]:40001',
  ];
  it.each(filters)('%j', (text) => {
    const r = compileFilter(text);
    if (!r.ok) throw new Error(r.error.message);
    const again = compileFilter(describeFilter(r.ast));
    const negated = compileFilterAst({ kind: 'not', operand: r.ast });
    if (!again.ok) throw new Error(again.error.message);
    for (const n of NAMES) {
      expect(again.filter(ZOO[n]), n).toBe(r.filter(ZOO[n]));
      expect(negated(ZOO[n]), n).toBe(!r.filter(ZOO[n]));
    }
  });
});

describe('state mapping', () => {
  // Every canonical name and the record states it matches (the decision table, spelled out).
  const cases: readonly (readonly [StateName, readonly SocketState[]])[] = [
    ['established', ['ESTABLISHED', 'CONNECTED']],
    ['syn-sent', ['SYN_SENT', 'CONNECTING']],
    ['syn-recv', ['SYN_RECV', 'NEW_SYN_RECV']],
    ['fin-wait-1', ['FIN_WAIT1']],
    ['fin-wait-2', ['FIN_WAIT2']],
    ['time-wait', ['TIME_WAIT']],
    ['closed', ['CLOSE', 'UNCONN', 'UNCONNECTED']],
    ['close-wait', ['CLOSE_WAIT']],
    ['last-ack', ['LAST_ACK']],
    ['listen', ['LISTEN', 'LISTENING']],
    ['closing', ['CLOSING', 'DISCONNECTING']],
    ['bucket', ['SYN_RECV', 'NEW_SYN_RECV', 'TIME_WAIT']],
  ];
  it.each(cases)('state %s', (name, states) => {
    expect([...statesMatching(name)].sort()).toEqual([...states].sort());
  });

  const ALL_STATES = Object.keys(SS_STATE_OF) as SocketState[];
  const set = (name: StateName): Set<SocketState> => new Set(statesMatching(name));
  const minus = (a: Set<SocketState>, ...bs: Set<SocketState>[]): SocketState[] => [...a].filter((s) => !bs.some((b) => b.has(s))).sort();

  it('all matches every record state', () => {
    expect([...set('all')].sort()).toEqual([...ALL_STATES].sort());
  });
  it('connected is all but listen, closed and the bucket states (ss SS_CONN)', () => {
    expect([...set('connected')].sort()).toEqual(minus(set('all'), set('listen'), set('closed'), set('bucket')));
  });
  it('synchronized is connected but syn-sent', () => {
    expect([...set('synchronized')].sort()).toEqual(minus(set('connected'), set('syn-sent')));
  });
  it('big is all but bucket', () => {
    expect([...set('big')].sort()).toEqual(minus(set('all'), set('bucket')));
  });
  it('every group member is a state and every accepted word resolves to a non-empty set', () => {
    for (const members of Object.values(STATE_GROUP_MEMBERS)) expect(members.length).toBeGreaterThan(0);
    for (const [word, name] of STATE_WORDS) expect(statesMatching(name).size, word).toBeGreaterThan(0);
  });
});
