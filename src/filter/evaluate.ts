// Filter language, step 3 of 3: AST → one closure per node, built once per filter change and
// then run on every socket of every refresh (100 000 sockets). Everything that can be decided
// from the filter alone is decided here, before the first socket: state names become a lookup
// table, CIDRs become 32-bit word masks, globs become RegExps. Per socket there is no AST walk
// and no string comparison beyond what the predicate itself needs.

import type { Protocol, SocketRecord, SocketState } from '../model/types.js';
import { parseIpv4, parseIpv6Into } from '../model/address.js';
import { PROTOCOLS_OF_WORD, type FilterNode, type PortOp, type Side, type SsState, type StateGroup, type StateName } from './ast.js';

/** A compiled filter: true when the socket matches. */
export type CompiledFilter = (s: SocketRecord) => boolean;

// ---------------------------------------------------------------------------------------------
// States

/**
 * THE state mapping: how every state a record can carry reads in ss's terms, which decides what
 * `state NAME` matches. Exhaustive over SocketState, so a new state cannot be forgotten.
 *   - TCP states are ss's states one to one; NEW_SYN_RECV (request socks) counts as syn-recv,
 *     as ss shows it.
 *   - UDP/raw reuse TCP numbers: ESTABLISHED (connect() was called) is established, UNCONN
 *     (TCP_CLOSE, 07) is closed, which ss prints as UNCONN.
 *   - UNIX states follow ss's unix_state_map: LISTENING → listen, CONNECTED → established,
 *     UNCONNECTED → closed, CONNECTING → syn-sent, DISCONNECTING → closing.
 */
export const SS_STATE_OF = {
  ESTABLISHED: 'established',
  SYN_SENT: 'syn-sent',
  SYN_RECV: 'syn-recv',
  NEW_SYN_RECV: 'syn-recv',
  FIN_WAIT1: 'fin-wait-1',
  FIN_WAIT2: 'fin-wait-2',
  TIME_WAIT: 'time-wait',
  CLOSE: 'closed',
  CLOSE_WAIT: 'close-wait',
  LAST_ACK: 'last-ack',
  LISTEN: 'listen',
  CLOSING: 'closing',
  UNCONN: 'closed',
  LISTENING: 'listen',
  CONNECTED: 'established',
  UNCONNECTED: 'closed',
  CONNECTING: 'syn-sent',
  DISCONNECTING: 'closing',
} as const satisfies Record<SocketState, SsState>;

/**
 * ss's state groups, as ss's code defines them (SS_CONN in misc/ss.c): `connected` leaves out
 * listen and closed *and* the two "bucket" states time-wait and syn-recv (ss(8) only mentions
 * the first two), so `state connected` lists the same sockets as `ss state connected`.
 */
export const STATE_GROUP_MEMBERS = {
  all: [
    'established',
    'syn-sent',
    'syn-recv',
    'fin-wait-1',
    'fin-wait-2',
    'time-wait',
    'closed',
    'close-wait',
    'last-ack',
    'listen',
    'closing',
  ],
  connected: ['established', 'syn-sent', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing'],
  synchronized: ['established', 'fin-wait-1', 'fin-wait-2', 'close-wait', 'last-ack', 'closing'],
  bucket: ['syn-recv', 'time-wait'],
  big: ['established', 'syn-sent', 'fin-wait-1', 'fin-wait-2', 'closed', 'close-wait', 'last-ack', 'listen', 'closing'],
} as const satisfies Record<StateGroup, readonly SsState[]>;

function isGroup(name: StateName): name is StateGroup {
  return Object.hasOwn(STATE_GROUP_MEMBERS, name);
}

/** The record states `state NAME` matches. */
export function statesMatching(name: StateName): ReadonlySet<SocketState> {
  const wanted: readonly SsState[] = isGroup(name) ? STATE_GROUP_MEMBERS[name] : [name];
  const states = new Set<SocketState>();
  for (const [state, ss] of Object.entries(SS_STATE_OF) as [SocketState, SsState][]) {
    if (wanted.includes(ss)) states.add(state);
  }
  return states;
}

// ---------------------------------------------------------------------------------------------
// Addresses. An IPv4 filter compares 32 bits and also reads the v4-mapped text ::ffff:a.b.c.d,
// so 10.0.0.0/8 matches a tcp6 socket showing ::ffff:10.1.2.3. An IPv6 filter compares 128 bits
// (four int32 words) with IPv4 records in their v4-mapped form, so ::ffff:10.0.0.0/104 is the
// same filter as 10.0.0.0/8.

/** Record address text → words in `out` (IPv4 as v4-mapped); false for '' (UNIX) or garbage. */
function recordAddressWords(text: string, out: Int32Array): boolean {
  if (text.indexOf(':') < 0) {
    const v4 = parseIpv4(text);
    if (v4 < 0) return false;
    out[0] = 0;
    out[1] = 0;
    out[2] = 0xffff;
    out[3] = v4;
    return true;
  }
  return parseIpv6Into(text, out);
}

type AddressTest = (text: string) => boolean;

/** Record address text → IPv4 value (also from the v4-mapped form "::ffff:a.b.c.d"), else -1. */
function recordIpv4(text: string): number {
  if (text.charCodeAt(0) !== 58 /* : */) return parseIpv4(text);
  return text.startsWith('::ffff:') ? parseIpv4(text, 7) : -1;
}

/** A test of record address text against one address/CIDR, masks computed once. */
function addressTest(node: Extract<FilterNode, { kind: 'address' }>): AddressTest {
  if (node.family === 'ipv4') {
    // Fast path (no 128-bit parse): an IPv4 CIDR can only match IPv4 or v4-mapped text.
    const bits = node.prefixLength;
    const mask = bits === 0 ? 0 : (-1 << (32 - bits)) | 0;
    const value = parseIpv4(node.address) & mask;
    return (text) => {
      const v4 = recordIpv4(text);
      return v4 >= 0 && (v4 & mask) === value;
    };
  }
  const words = new Int32Array(4);
  const prefix = node.prefixLength;
  if (!parseIpv6Into(node.address, words)) {
    throw new Error(`filter AST holds an address the parser should have refused: ${node.address}`);
  }
  const masks = [0, 1, 2, 3].map((k) => {
    const bits = Math.max(0, Math.min(32, prefix - 32 * k));
    return bits === 0 ? 0 : bits === 32 ? -1 : (-1 << (32 - bits)) | 0;
  });
  const [m0, m1, m2, m3] = masks as [number, number, number, number];
  const v0 = (words[0] as number) & m0;
  const v1 = (words[1] as number) & m1;
  const v2 = (words[2] as number) & m2;
  const v3 = (words[3] as number) & m3;
  const scratch = new Int32Array(4);
  return (text) =>
    recordAddressWords(text, scratch) &&
    ((scratch[0] as number) & m0) === v0 &&
    ((scratch[1] as number) & m1) === v1 &&
    ((scratch[2] as number) & m2) === v2 &&
    ((scratch[3] as number) & m3) === v3;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** `*` any run, `?` one character; everything else literal. */
function globTest(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return (text) => text === pattern;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  const re = new RegExp(`^${source}$`, 's');
  return (text) => re.test(text);
}

function portTest(op: PortOp, port: number): (p: number) => boolean {
  switch (op) {
    case '=':
      return (p) => p === port;
    case '<':
      return (p) => p < port;
    case '>':
      return (p) => p > port;
    case '<=':
      return (p) => p <= port;
    case '>=':
      return (p) => p >= port;
  }
}

/** Ports exist only for inet sockets; UNIX sockets never match a port predicate. */
function onSide(side: Side, test: (p: number) => boolean): CompiledFilter {
  switch (side) {
    case 'local':
      return (s) => s.protocol !== 'unix' && test(s.localPort);
    case 'remote':
      return (s) => s.protocol !== 'unix' && test(s.remotePort);
    case 'either':
      return (s) => s.protocol !== 'unix' && (test(s.localPort) || test(s.remotePort));
  }
}

function allOf(parts: readonly CompiledFilter[]): CompiledFilter {
  if (parts.length === 2) {
    const [a, b] = parts as [CompiledFilter, CompiledFilter];
    return (s) => a(s) && b(s);
  }
  return (s) => {
    for (const p of parts) if (!p(s)) return false;
    return true;
  };
}

function anyOf(parts: readonly CompiledFilter[]): CompiledFilter {
  if (parts.length === 2) {
    const [a, b] = parts as [CompiledFilter, CompiledFilter];
    return (s) => a(s) || b(s);
  }
  return (s) => {
    for (const p of parts) if (p(s)) return true;
    return false;
  };
}

/** A cheap check first: and/or operands are reordered so state and protocol tests run early. */
const COST: Readonly<Record<FilterNode['kind'], number>> = {
  all: 0,
  state: 1,
  proto: 1,
  port: 2,
  'port-range': 2,
  pid: 2,
  uid: 2,
  user: 3,
  proc: 4,
  path: 4,
  address: 5,
  not: 6,
  and: 7,
  or: 7,
};

function byCost(nodes: readonly FilterNode[]): FilterNode[] {
  return [...nodes].sort((a, b) => COST[a.kind] - COST[b.kind]);
}

function compileAddress(node: Extract<FilterNode, { kind: 'address' }>): CompiledFilter {
  const test = addressTest(node);
  const port = node.port;
  if (port === null) {
    switch (node.side) {
      case 'local':
        return (s) => test(s.localAddress);
      case 'remote':
        return (s) => test(s.remoteAddress);
      case 'either':
        return (s) => test(s.localAddress) || test(s.remoteAddress);
    }
  }
  // Port first: an integer compare that rules out most sockets before the address is parsed.
  switch (node.side) {
    case 'local':
      return (s) => s.localPort === port && test(s.localAddress);
    case 'remote':
      return (s) => s.remotePort === port && test(s.remoteAddress);
    case 'either':
      return (s) => (s.localPort === port && test(s.localAddress)) || (s.remotePort === port && test(s.remoteAddress));
  }
}

// ---------------------------------------------------------------------------------------------

/** Compile an AST (from parseFilter) into a predicate. Pure: no I/O, no state kept between calls. */
export function compileFilterAst(node: FilterNode): CompiledFilter {
  switch (node.kind) {
    case 'all':
      return () => true;
    case 'and':
      return allOf(byCost(node.operands).map(compileFilterAst));
    case 'or':
      return anyOf(byCost(node.operands).map(compileFilterAst));
    case 'not': {
      const inner = compileFilterAst(node.operand);
      return (s) => !inner(s);
    }
    case 'port':
      return onSide(node.side, portTest(node.op, node.port));
    case 'port-range': {
      const { low, high } = node;
      return onSide(node.side, (p) => p >= low && p <= high);
    }
    case 'state': {
      // Object lookup keyed by the record's state string: one property load per socket.
      const accepted: Partial<Record<SocketState, true>> = {};
      for (const state of statesMatching(node.name)) accepted[state] = true;
      return (s) => accepted[s.state] === true;
    }
    case 'proto': {
      const accepted: Partial<Record<Protocol, true>> = {};
      for (const p of PROTOCOLS_OF_WORD[node.name]) accepted[p] = true;
      return (s) => accepted[s.protocol] === true;
    }
    case 'address':
      return compileAddress(node);
    case 'path': {
      const test = globTest(node.pattern);
      return (s) => s.path !== null && test(s.path);
    }
    case 'proc': {
      const test = globTest(node.pattern);
      return (s) => s.owner !== null && test(s.owner.command);
    }
    case 'pid': {
      const pid = node.pid;
      return (s) => s.owner !== null && s.owner.pid === pid;
    }
    case 'user': {
      const name = node.name;
      return (s) => s.user === name;
    }
    case 'uid': {
      const uid = node.uid;
      return (s) => s.uid === uid;
    }
  }
}
