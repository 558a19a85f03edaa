import { describe, expect, it } from 'vitest';

import type { FilterNode } from '../src/filter/ast.js';
import { MAX_FILTER_DEPTH, parseFilter } from '../src/filter/parser.js';
import { describeFilter } from '../src/filter/print.js';
import { closestWords, editDistance } from '../src/filter/suggest.js';
import { parseIpv4, parseIpv6Into } from '../src/model/address.js';
import { compileFilter, formatFilterError } from '../src/filter/index.js';

function ast(text: string): FilterNode {
  const r = parseFilter(text);
  if (!r.ok) throw new Error(`unexpected error at column ${r.error.column}: ${r.error.message}`);
  return r.ast;
}

// Small AST builders so the tables stay readable.
const port = (side: 'local' | 'remote' | 'either', p: number, op: '=' | '<' | '>' | '<=' | '>=' = '='): FilterNode => ({
  kind: 'port',
  side,
  op,
  port: p,
});
const range = (side: 'local' | 'remote' | 'either', low: number, high: number): FilterNode => ({ kind: 'port-range', side, low, high });
const state = (name: Extract<FilterNode, { kind: 'state' }>['name']): FilterNode => ({ kind: 'state', name });
const proto = (name: Extract<FilterNode, { kind: 'proto' }>['name']): FilterNode => ({ kind: 'proto', name });
const and = (...operands: FilterNode[]): FilterNode => ({ kind: 'and', operands });
const or = (...operands: FilterNode[]): FilterNode => ({ kind: 'or', operands });
const not = (operand: FilterNode): FilterNode => ({ kind: 'not', operand });
const v4 = (side: 'local' | 'remote' | 'either', address: string, prefixLength = 32, p: number | null = null): FilterNode => ({
  kind: 'address',
  side,
  family: 'ipv4',
  address,
  prefixLength,
  port: p,
});
const v6 = (side: 'local' | 'remote' | 'either', address: string, prefixLength = 128, p: number | null = null): FilterNode => ({
  kind: 'address',
  side,
  family: 'ipv6',
  address,
  prefixLength,
  port: p,
});

describe('parseFilter: AST table', () => {
  const cases: readonly (readonly [string, FilterNode])[] = [
    ['', { kind: 'all' }],
    ['  \t ', { kind: 'all' }],
    // ports
    ['port 80', port('either', 80)],
    ['sport 443', port('local', 443)],
    ['dport 22', port('remote', 22)],
    ['PORT 80', port('either', 80)],
    ['80', port('either', 80)],
    [':80', port('either', 80)],
    ['port :0', port('either', 0)],
    ['port 65535', port('either', 65535)],
    ['port 8000-8100', range('either', 8000, 8100)],
    ['8000-8100', range('either', 8000, 8100)],
    ['dport :1-1023', range('remote', 1, 1023)],
    ['port 80-80', port('either', 80)],
    // ss comparisons
    ['sport = :443', port('local', 443)],
    ['sport == 443', port('local', 443)],
    ['sport eq :443', port('local', 443)],
    ['dport != :22', not(port('remote', 22))],
    ['dport neq 22', not(port('remote', 22))],
    ['dport ne 22', not(port('remote', 22))],
    ['dport > :1024', port('remote', 1024, '>')],
    ['dport gt 1024', port('remote', 1024, '>')],
    ['sport < 1024', port('local', 1024, '<')],
    ['sport lt 1024', port('local', 1024, '<')],
    ['sport >= 1024', port('local', 1024, '>=')],
    ['sport GE 1024', port('local', 1024, '>=')],
    ['sport <= 1024', port('local', 1024, '<=')],
    ['sport le 1024', port('local', 1024, '<=')],
    ['sport>=1024', port('local', 1024, '>=')],
    ['port != 8000-8100', not(range('either', 8000, 8100))],
    // states: kernel names, ss names, groups, short forms
    ['state established', state('established')],
    ['state ESTABLISHED', state('established')],
    ['state estab', state('established')],
    ['state SYN_SENT', state('syn-sent')],
    ['state syn-sent', state('syn-sent')],
    ['state syn-recv', state('syn-recv')],
    ['state NEW_SYN_RECV', state('syn-recv')],
    ['state FIN_WAIT1', state('fin-wait-1')],
    ['state fin-wait-1', state('fin-wait-1')],
    ['state FIN_WAIT2', state('fin-wait-2')],
    ['state fin-wait-2', state('fin-wait-2')],
    ['state TIME_WAIT', state('time-wait')],
    ['state time-wait', state('time-wait')],
    ['state tw', state('time-wait')],
    ['state CLOSE', state('closed')],
    ['state closed', state('closed')],
    ['state UNCONN', state('closed')],
    ['state unconnected', state('closed')],
    ['state CLOSE_WAIT', state('close-wait')],
    ['state close-wait', state('close-wait')],
    ['state cw', state('close-wait')],
    ['state LAST_ACK', state('last-ack')],
    ['state last-ack', state('last-ack')],
    ['state LISTEN', state('listen')],
    ['state listening', state('listen')],
    ['state LISTENING', state('listen')],
    ['state CLOSING', state('closing')],
    ['state DISCONNECTING', state('closing')],
    ['state CONNECTING', state('syn-sent')],
    ['state CONNECTED', state('connected')],
    ['state all', state('all')],
    ['state synchronized', state('synchronized')],
    ['state bucket', state('bucket')],
    ['state big', state('big')],
    ['state = listen', state('listen')],
    ['state != listen', not(state('listen'))],
    // addresses
    ['host 10.0.0.1', v4('either', '10.0.0.1')],
    ['src 10.0.0.0/8', v4('local', '10.0.0.0', 8)],
    ['dst 192.168.1.0/24', v4('remote', '192.168.1.0', 24)],
    ['host 0.0.0.0/0', v4('either', '0.0.0.0', 0)],
    ['src 127.0.0.1:8080', v4('local', '127.0.0.1', 32, 8080)],
    ['src 10.0.0.0/8:443', v4('local', '10.0.0.0', 8, 443)],
    ['host ::1', v6('either', '::1')],
    ['dst FE80::/10', v6('remote', 'fe80::', 10)],
    ['dst [::1]:443', v6('remote', '::1', 128, 443)],
    ['dst [2001:db8::/32]:443', v6('remote', '2001:db8::', 32, 443)],
    ['dst [::1]', v6('remote', '::1')],
    ['host ::ffff:10.0.0.1', v6('either', '::ffff:10.0.0.1')],
    ['src *:8080', port('local', 8080)],
    ['10.0.0.1', v4('either', '10.0.0.1')],
    ['::1', v6('either', '::1')],
    ['[::1]:22', v6('either', '::1', 128, 22)],
    ['host != 10.0.0.0/8', not(v4('either', '10.0.0.0', 8))],
    ['src /run/docker.sock', { kind: 'path', pattern: '/run/docker.sock' }],
    ['host @/tmp/.X11-unix/*', { kind: 'path', pattern: '@/tmp/.X11-unix/*' }],
    // owners
    ['proc nginx', { kind: 'proc', pattern: 'nginx' }],
    ['proc ngin*', { kind: 'proc', pattern: 'ngin*' }],
    ['proc "Web Content"', { kind: 'proc', pattern: 'Web Content' }],
    ['proc 1234', { kind: 'pid', pid: 1234 }],
    ['pid 1', { kind: 'pid', pid: 1 }],
    ['user root', { kind: 'user', name: 'root' }],
    ['user 1000', { kind: 'uid', uid: 1000 }],
    ['user != root', not({ kind: 'user', name: 'root' })],
    // protocols
    ['proto tcp', proto('tcp')],
    ['proto TCP6', proto('tcp6')],
    ['proto inet6', proto('inet6')],
    ['tcp', proto('tcp')],
    ['udp', proto('udp')],
    ['unix', proto('unix')],
    ['raw6', proto('raw6')],
    // combinations and precedence: not > and > or
    ['tcp and port 80', and(proto('tcp'), port('either', 80))],
    ['tcp && port 80', and(proto('tcp'), port('either', 80))],
    ['state established dport 443', and(state('established'), port('remote', 443))],
    ['tcp or udp', or(proto('tcp'), proto('udp'))],
    ['tcp || udp or unix', or(proto('tcp'), proto('udp'), proto('unix'))],
    ['tcp or udp and port 53', or(proto('tcp'), and(proto('udp'), port('either', 53)))],
    ['tcp and udp or port 53', or(and(proto('tcp'), proto('udp')), port('either', 53))],
    ['(tcp or udp) and port 53', and(or(proto('tcp'), proto('udp')), port('either', 53))],
    ['(tcp or udp) port 53', and(or(proto('tcp'), proto('udp')), port('either', 53))],
    ['not tcp', not(proto('tcp'))],
    ['!tcp', not(proto('tcp'))],
    ['not not tcp', not(not(proto('tcp')))],
    ['not tcp and udp', and(not(proto('tcp')), proto('udp'))],
    ['not (tcp and udp)', not(and(proto('tcp'), proto('udp')))],
    ['tcp and not port 22', and(proto('tcp'), not(port('either', 22)))],
    ['tcp not port 22', and(proto('tcp'), not(port('either', 22)))],
    ['tcp and (udp and unix)', and(proto('tcp'), proto('udp'), proto('unix'))],
    ['((port 1))', port('either', 1)],
    ['dport 443 and not host 10.0.0.0/8', and(port('remote', 443), not(v4('either', '10.0.0.0', 8)))],
    ['state close-wait and proc nginx', and(state('close-wait'), { kind: 'proc', pattern: 'nginx' })],
  ];
  it.each(cases)('%j', (text, expected) => {
    expect(ast(text)).toEqual(expected);
  });
});

describe('parseFilter: error column table', () => {
  // [text, column, part of the message]
  const cases: readonly (readonly [string, number, string])[] = [
    ['port abc', 6, "expected a port number after 'port', got 'abc'"],
    ['tcp and port abc', 14, "expected a port number after 'port', got 'abc'"],
    ['port', 5, "expected a port number after 'port', got end of input"],
    ['port and tcp', 6, "expected a port number after 'port', got 'and'"],
    ['sport =', 8, "expected a port number after 'sport', got end of input"],
    ['port 70000', 6, 'port 70000 is out of range 0-65535'],
    ['port 123456', 6, 'out of range 0-65535'],
    ['dport = :65536', 9, 'port 65536 is out of range'],
    ['port 8100-8000', 6, 'backwards'],
    ['port 1-70000', 6, 'port 70000 is out of range'],
    ['sport > 8000-8100', 9, 'a port range only works with = or !='],
    ['prot 80', 1, "unknown word 'prot', did you mean 'port'?"],
    ['tcp and sprot 80', 9, "unknown word 'sprot', did you mean 'sport'?"],
    ['stat listen', 1, "did you mean 'state'?"],
    ['tcp protoo udp', 5, "did you mean 'proto'?"],
    ['port 80 xyzzy', 9, "unknown word 'xyzzy'"],
    ['constructor', 1, "unknown word 'constructor'"],
    ['listen', 1, "did you mean 'state listen'?"],
    ['state', 6, "expected a state name (established, listen, time-wait, …) after 'state', got end of input"],
    ['state establised', 7, "unknown state 'establised', did you mean 'established'?"],
    ['state foo', 7, "unknown state 'foo' (states include established, listen"],
    ['state toString', 7, "unknown state 'toString'"],
    ['state < listen', 7, "'<' only works with port, sport and dport"],
    ['host', 5, 'expected an IPv4 or IPv6 address or CIDR'],
    ['host 10.0.0.0/33', 6, 'an IPv4 prefix length is 0-32'],
    ['host ::/129', 6, 'an IPv6 prefix length is 0-128'],
    ['host 10.0.0.0/x', 6, 'prefix length'],
    ['src 10.0.0.256', 5, "'10.0.0.256' is not an IPv4 address"],
    ['src 10.0.0', 5, 'is not an IPv4 address'],
    ['dst 1::2::3', 5, 'is not an IPv6 address'],
    ['dst fe80::g', 5, 'is not an IPv6 address'],
    ['dst [::1', 5, "missing ']'"],
    ['dst [::1]x', 5, "unexpected 'x' after ']'"],
    ['dst [10.0.0.1]:80', 5, 'brackets are for IPv6'],
    ['dst 10.0.0.1:99999', 5, "port '99999' is not a number 0-65535"],
    ['src localhost', 5, "expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, ::1, fe80::/10, [::1]:443) after 'src', got 'localhost'"],
    ['src *', 5, "got '*'"],
    ['dst /run/x.sock', 5, "'dst' cannot match '/run/x.sock'"],
    ['proc', 5, "expected a process name or pid after 'proc', got end of input"],
    ['proc ""', 6, 'empty string'],
    ['pid x', 5, "expected a process id after 'pid', got 'x'"],
    ['user', 5, "expected a user name or uid after 'user'"],
    ['user 99999999999', 6, 'uid 99999999999'],
    ['proto tpc', 7, "unknown protocol 'tpc', did you mean 'tcp'?"],
    ['proto sctp', 7, "unknown protocol 'sctp'"],
    ['(port 80', 1, "unclosed '(': expected ')' before the end"],
    ['tcp and ((port 80)', 9, "unclosed '('"],
    ['(port 80 = 3', 10, "expected ')' to close the '(' at column 1, got '='"],
    ['port 80)', 8, "unexpected ')' with no matching '('"],
    ['()', 2, "expected a filter after '(', got ')'"],
    ['port 80 or', 11, "expected a filter after 'or', got end of input"],
    ['port 80 and', 12, "expected a filter after 'and', got end of input"],
    ['and port 80', 1, "expected a filter, got 'and'"],
    ['or', 1, "expected a filter, got 'or'"],
    ['not', 4, "expected a filter after 'not', got end of input"],
    ['tcp !', 6, "expected a filter after '!', got end of input"],
    ['tcp and or udp', 9, "expected a filter after 'and', got 'or'"],
    ['port 80 = 3', 9, "unexpected '='"],
    ['"nginx"', 1, 'a quoted value goes after a keyword'],
    ['proc "abc', 6, 'unterminated string'],
  ];
  it.each(cases)('%j → column %i', (text, column, message) => {
    const r = parseFilter(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toContain(message);
    expect(r.error.column).toBe(column);
  });
});

describe('formatFilterError', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['port abc', "port abc\n     ^\ncolumn 6: expected a port number after 'port', got 'abc'"],
    ['tcp and port', "tcp and port\n            ^\ncolumn 13: expected a port number after 'port', got end of input"],
    // A tab is shown as one space so the caret stays aligned.
    ['tcp\tprot 1', "tcp prot 1\n    ^\ncolumn 5: unknown word 'prot', did you mean 'port'?"],
  ];
  it.each(cases)('%j', (text, expected) => {
    const r = parseFilter(text);
    if (r.ok) throw new Error('expected an error');
    expect(formatFilterError(text, r.error)).toBe(expected);
  });
});

describe('describeFilter: normalised text, and parsing it gives the same AST', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['', ''],
    ['port 80', 'port 80'],
    [':80', 'port 80'],
    ['sport = :443', 'sport 443'],
    ['dport != :22', 'not dport 22'],
    ['dport gt 1024', 'dport > 1024'],
    ['sport <= 1023', 'sport <= 1023'],
    ['8000-8100', 'port 8000-8100'],
    ['STATE TIME_WAIT', 'state time-wait'],
    ['state tw', 'state time-wait'],
    ['state LISTENING', 'state listen'],
    ['host 10.0.0.1', 'host 10.0.0.1'],
    ['src 10.0.0.0/8', 'src 10.0.0.0/8'],
    ['dst FE80::/10', 'dst fe80::/10'],
    ['dst [::1]:443', 'dst [::1]:443'],
    ['src 127.0.0.1:8080', 'src 127.0.0.1:8080'],
    ['src *:80', 'sport 80'],
    ['host /run/*.sock', 'src /run/*.sock'],
    ['proc "Web Content"', 'proc "Web Content"'],
    ['proc \'say "hi"\'', 'proc \'say "hi"\''],
    ['proc "and"', 'proc "and"'],
    ['proc 42', 'pid 42'],
    ['user 0', 'user 0'],
    ['tcp', 'proto tcp'],
    ['state established dport 443', 'state established and dport 443'],
    ['tcp || udp && port 53', 'proto tcp or proto udp and port 53'],
    ['(tcp or udp) port 53', '(proto tcp or proto udp) and port 53'],
    ['!(tcp or udp)', 'not (proto tcp or proto udp)'],
    ['!(tcp and udp)', 'not (proto tcp and proto udp)'],
    ['not (tcp)', 'not proto tcp'],
    ['tcp and (udp and (unix or raw))', 'proto tcp and proto udp and (proto unix or proto raw)'],
  ];
  it.each(cases)('%j → %j', (text, expected) => {
    const tree = ast(text);
    const described = describeFilter(tree);
    expect(described).toBe(expected);
    expect(ast(described)).toEqual(tree);
  });
});

describe('address helpers', () => {
  const v4cases: readonly (readonly [string, number])[] = [
    ['0.0.0.0', 0],
    ['127.0.0.1', 0x7f000001],
    ['255.255.255.255', 0xffffffff],
    ['10.1.2.3', 0x0a010203],
    ['256.0.0.1', -1],
    ['1.2.3', -1],
    ['1.2.3.4.5', -1],
    ['1..2.3', -1],
    ['1.2.3.', -1],
    ['1.2.3.1234', -1],
    ['', -1],
    ['a.b.c.d', -1],
  ];
  it.each(v4cases)('parseIpv4(%j) = %i', (text, expected) => {
    expect(parseIpv4(text)).toBe(expected);
  });

  const v6cases: readonly (readonly [string, readonly number[] | null])[] = [
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['1::', [0x10000, 0, 0, 0]],
    ['fe80::1', [0xfe800000 | 0, 0, 0, 1]],
    ['2001:db8::ff00:42:8329', [0x20010db8, 0, 0xff00, 0x428329]],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', [0x20010db8, 0, 0xff00, 0x428329]],
    ['::ffff:10.1.2.3', [0, 0, 0xffff, 0x0a010203]],
    ['1:2:3:4:5:6:7::', [0x10002, 0x30004, 0x50006, 0x70000]],
    ['::2:3:4:5:6:7:8', [0x2, 0x30004, 0x50006, 0x70008]],
    ['1:2:3:4:5:6:7:8', [0x10002, 0x30004, 0x50006, 0x70008]],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4:5:6:7', null],
    ['1::2::3', null],
    [':::', null],
    [':1', null],
    ['1:', null],
    ['12345::', null],
    ['g::', null],
    ['::1.2.3', null],
    ['1.2.3.4', null],
    ['', null],
  ];
  it.each(v6cases)('parseIpv6Into(%j)', (text, expected) => {
    const out = new Int32Array(4);
    const ok = parseIpv6Into(text, out);
    if (expected === null) {
      expect(ok).toBe(false);
      return;
    }
    expect(ok).toBe(true);
    expect([...out]).toEqual(expected.map((w) => w | 0));
  });
});

describe('suggestions', () => {
  const distances: readonly (readonly [string, string, number])[] = [
    ['port', 'port', 0],
    ['prot', 'port', 0.5],
    ['prot', 'proto', 1],
    ['prot', 'proc', 1],
    ['sprot', 'sport', 0.5],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
  ];
  it.each(distances)('editDistance(%j, %j) = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });

  const closest: readonly (readonly [string, readonly string[], readonly string[]])[] = [
    ['prot', ['port', 'proto', 'proc'], ['port']],
    ['stat', ['state', 'sport', 'port'], ['state']],
    ['xyz', ['port', 'state'], []],
    ['tpc', ['tcp', 'udp'], ['tcp']],
    ['PORT', ['port'], ['port']],
  ];
  it.each(closest)('closestWords(%j)', (word, candidates, expected) => {
    expect(closestWords(word, candidates)).toEqual(expected);
  });
});

describe('nesting depth is bounded (a clean error, not a stack overflow)', () => {
  const parens = (n: number) => `${'('.repeat(n)}tcp${')'.repeat(n)}`;
  const nots = (n: number) => `${'not '.repeat(n)}tcp`;
  const mixed = (n: number) => `${'not ('.repeat(n)}tcp${')'.repeat(n)}`;

  it.each([
    ['3,000 parentheses', parens(3000), 101],
    ['5,000 not', nots(5000), 401],
    ['100,000 !', `${'!'.repeat(100_000)}tcp`, 101],
    ['not ( alternating', mixed(60), 'not ('.repeat(50).length + 1],
  ])('%s: error naming the limit, at the column of the first level too many', (_name, text, column) => {
    const r = parseFilter(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual({
      column,
      message: `filter nested too deeply: at most ${MAX_FILTER_DEPTH} levels of '(' and 'not' inside one another`,
    });
  });

  it(`${MAX_FILTER_DEPTH} levels parse, compile and describe; one more does not`, () => {
    expect(MAX_FILTER_DEPTH).toBe(100);
    for (const text of [parens(MAX_FILTER_DEPTH), nots(MAX_FILTER_DEPTH), `${'not ('.repeat(50)}tcp${')'.repeat(50)}`]) {
      const c = compileFilter(text);
      expect(c.ok, text).toBe(true);
      if (!c.ok) continue;
      expect(parseFilter(describeFilter(c.ast)).ok).toBe(true);
    }
    expect(parseFilter(parens(MAX_FILTER_DEPTH + 1)).ok).toBe(false);
    expect(parseFilter(nots(MAX_FILTER_DEPTH + 1)).ok).toBe(false);
  });

  it('a long flat expression is not nesting: 20,000 operands of or parse', () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `sport ${i % 65536}`).join(' or ');
    const r = parseFilter(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.ast).toMatchObject({ kind: 'or' });
  });
});

describe('error messages are inert: typed control characters come back escaped', () => {
  it.each([
    ['a word', 'port a\x1b[31mb\x07', /got 'a\\x1b\[31mb\\x07'/],
    ['an unknown word', 'bogus\x1b]0;pwned\x07', /unknown word 'bogus\\x1b\]0;pwned\\x07'/],
    ['a state', 'state \x9bfoo', /unknown state '\\x9bfoo'/],
    ['a bidi override', 'proto tcp\u202e', /unknown protocol 'tcp\\u\{202e\}'/],
    ['an operator after nothing', 'and \x1bx', /expected a filter, got 'and'|got/],
  ])('%s', (_name, text, pattern) => {
    const r = parseFilter(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toMatch(pattern);
    // No C0/C1 control, DEL or bidi control reaches the text printed to stderr.
    const printed = formatFilterError(text, r.error);
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/);
  });

  it('a huge word is quoted cut short', () => {
    const r = parseFilter(`port ${'x'.repeat(100_000)}`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message.length).toBeLessThan(400);
  });
});
