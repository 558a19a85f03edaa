// Filter language, step 2 of 3: tokens → AST, by recursive descent. Pure.
//
// Grammar (precedence not > and > or; juxtaposition is `and`, as in ss):
//   filter    := or? END                       (empty text matches everything)
//   or        := and (('or' | '||' | '|') and)*
//   and       := unary (('and' | '&&' | '&')? unary)*
//   unary     := ('not' | '!') unary | '(' or ')' | predicate
//   predicate := PORTKW cmp? PORT          PORTKW = port | sport | dport; PORT = N | :N | N-M
//              | ADDRKW eq? ADDRESS        ADDRKW = host | src | dst
//              | state eq? STATE | proc eq? NAME|PID | pid eq? N | user eq? NAME|UID | proto eq? PROTO
//              | PROTO | N | :N | N-M | ADDRESS       bare forms: proto, port, host
//   cmp       := = | == | != | < | > | <= | >= | eq | neq | ne | gt | lt | ge | le
//   eq        := = | == | !=                  ('!=' wraps the predicate in `not`)

import { safeText } from '../model/safe-text.js';
import { parseIpv4, parseIpv6Into } from '../model/address.js';
import {
  FILTER_KEYWORDS,
  PROTOCOLS_OF_WORD,
  PROTO_NAMES,
  STATE_WORDS,
  type FilterKeyword,
  type FilterNode,
  type PortOp,
  type ProtoName,
  type Side,
} from './ast.js';
import { describeToken, quoteInput, tokenizeFilter, type FilterError, type Token } from './lexer.js';
import { closestWords, quoteList } from './suggest.js';

export type ParseResult = { readonly ok: true; readonly ast: FilterNode } | { readonly ok: false; readonly error: FilterError };

const PORT_SIDE: Readonly<Record<'port' | 'sport' | 'dport', Side>> = { port: 'either', sport: 'local', dport: 'remote' };
const ADDRESS_SIDE: Readonly<Record<'host' | 'src' | 'dst', Side>> = { host: 'either', src: 'local', dst: 'remote' };

/** ss's word forms of the comparisons, and the symbols (as the lexer normalises them). */
const COMPARISONS: ReadonlyMap<string, PortOp | '!='> = new Map<string, PortOp | '!='>([
  ['=', '='],
  ['eq', '='],
  ['!=', '!='],
  ['neq', '!='],
  ['ne', '!='],
  ['<', '<'],
  ['lt', '<'],
  ['>', '>'],
  ['gt', '>'],
  ['<=', '<='],
  ['le', '<='],
  ['>=', '>='],
  ['ge', '>='],
]);

// ---------------------------------------------------------------------------------------------
// Values after keywords

/** 0–65535 from decimal digits only; -1 otherwise. */
function parsePortNumber(text: string): number {
  if (!/^\d{1,5}$/.test(text)) return -1;
  const n = Number(text);
  return n <= 65535 ? n : -1;
}

/** A non-negative integer made of digits only (pid, uid), or -1. */
function parseId(text: string, max: number): number {
  if (!/^\d{1,10}$/.test(text)) return -1;
  const n = Number(text);
  return n <= max ? n : -1;
}

/** Thrown inside the parser only; parseFilter turns it into a ParseResult. */
class FilterSyntaxError extends Error {
  constructor(readonly filterError: FilterError) {
    super(filterError.message);
  }
}

function fail(column: number, message: string): never {
  // Messages quote typed text: made inert here once more, whatever a message quotes (bounded).
  throw new FilterSyntaxError({ column, message: safeText(message, 1000) });
}

type AddressValue =
  | {
      readonly kind: 'address';
      readonly family: 'ipv4' | 'ipv6';
      readonly address: string;
      readonly prefixLength: number;
      readonly port: number | null;
    }
  | { readonly kind: 'any'; readonly port: number }
  | { readonly kind: 'bad'; readonly why: string };

const ADDRESS_HELP = 'an IPv4 or IPv6 address or CIDR (10.0.0.0/8, ::1, fe80::/10, [::1]:443)';

/** ADDR, ADDR/LEN, ADDR:PORT, [V6]:PORT, [V6/LEN]:PORT, *:PORT. */
function parseAddressValue(raw: string): AddressValue | null {
  const text = raw.toLowerCase();
  let body = text;
  let portText: string | null = null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return { kind: 'bad', why: "missing ']'" };
    body = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return { kind: 'bad', why: `unexpected '${rest}' after ']'` };
      portText = rest.slice(1);
    }
    if (!body.includes(':')) return { kind: 'bad', why: 'brackets are for IPv6 addresses' };
  } else if (text.startsWith('*:')) {
    body = '*';
    portText = text.slice(2);
  } else {
    const colon = text.indexOf(':');
    // One colon after something dotted: IPv4 with a port (1.2.3.4:80, 10.0.0.0/8:443).
    if (colon > 0 && text.indexOf(':', colon + 1) < 0 && text.slice(0, colon).includes('.')) {
      body = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  let port: number | null = null;
  if (portText !== null) {
    port = parsePortNumber(portText);
    if (port < 0) return { kind: 'bad', why: `port '${portText}' is not a number 0-65535` };
  }
  if (body === '*') return port === null ? null : { kind: 'any', port };

  const slash = body.indexOf('/');
  const addr = slash < 0 ? body : body.slice(0, slash);
  const isV6 = addr.includes(':');
  const isV4 = !isV6 && parseIpv4(addr) >= 0;
  if (!isV6 && !isV4) {
    // Only call it a bad address when it looks like one; otherwise let the caller say "unknown".
    return /^[\d.]+(\/.*)?$/.test(body) ? { kind: 'bad', why: `'${addr}' is not an IPv4 address (a.b.c.d, each 0-255)` } : null;
  }
  if (isV6 && !parseIpv6Into(addr, new Int32Array(4))) return { kind: 'bad', why: `'${addr}' is not an IPv6 address` };
  const maxPrefix = isV6 ? 128 : 32;
  let prefixLength = maxPrefix;
  if (slash >= 0) {
    const lenText = body.slice(slash + 1);
    const n = /^\d{1,3}$/.test(lenText) ? Number(lenText) : -1;
    if (n < 0 || n > maxPrefix) {
      return { kind: 'bad', why: `an ${isV6 ? 'IPv6' : 'IPv4'} prefix length is 0-${maxPrefix}, got '${lenText}'` };
    }
    prefixLength = n;
  }
  return { kind: 'address', family: isV6 ? 'ipv6' : 'ipv4', address: addr, prefixLength, port };
}

/**
 * A port value as typed after port/sport/dport or bare: `N`, `:N`, `N-M`, `:N-M` → an inclusive
 * range. The one place port values are resolved (both the keyword and the bare form call it).
 */
type PortValue = { readonly low: number; readonly high: number } | { readonly bad: string } | null;

function parsePortValue(text: string): PortValue {
  const m = /^:?(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) return null;
  const lowText = m[1] as string;
  const highText = m[2];
  const low = parsePortNumber(lowText);
  if (low < 0) return { bad: `port ${lowText} is out of range 0-65535` };
  if (highText === undefined) return { low, high: low };
  const high = parsePortNumber(highText);
  if (high < 0) return { bad: `port ${highText} is out of range 0-65535` };
  if (high < low) return { bad: `port range ${low}-${high} is backwards; write ${high}-${low}` };
  return { low, high };
}

// ---------------------------------------------------------------------------------------------
// Parser

function flatten(kind: 'and' | 'or', operands: readonly FilterNode[]): FilterNode {
  const flat: FilterNode[] = [];
  for (const o of operands) {
    if (o.kind === kind) flat.push(...o.operands);
    else flat.push(o);
  }
  return flat.length === 1 ? (flat[0] as FilterNode) : { kind, operands: flat };
}

function negateIf(negate: boolean, node: FilterNode): FilterNode {
  return negate ? { kind: 'not', operand: node } : node;
}

/** What the parser may look up outside the text. */
export interface ParseOptions {
  /** Service name → port (from /etc/services), for `port http`; absent: names are not ports. */
  readonly servicePort?: (name: string) => number | undefined;
}

/** A word that can only be a service name ("http", "postgresql", "http-alt"). */
const SERVICE_NAME = /^[a-z][a-z0-9._+-]*$/i;

/**
 * Most levels of '(' and 'not' one inside another. Parsing, compiling and describing recurse once
 * per level, so deeper input would exhaust the stack; nobody types 100 levels by hand.
 */
export const MAX_FILTER_DEPTH = 100;

class Parser {
  private index = 0;
  /** Levels of '(' and 'not' open at the current token. */
  private depth = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly options: ParseOptions = {},
  ) {}

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const t = this.tokens[this.index] as Token;
    if (t.kind !== 'end') this.index += 1;
    return t;
  }

  parseAll(): FilterNode {
    if (this.peek().kind === 'end') return { kind: 'all' };
    const node = this.parseOr(null);
    const t = this.peek();
    if (t.kind === 'rparen') fail(t.column, "unexpected ')' with no matching '('");
    if (t.kind === 'compare') {
      fail(t.column, `unexpected '${quoteInput(t.text)}': a comparison goes right after port, sport or dport (e.g. sport = :443)`);
    }
    if (t.kind !== 'end') fail(t.column, `expected 'and', 'or' or the end, got ${describeToken(t)}`);
    return node;
  }

  private parseOr(after: Token | null): FilterNode {
    const operands = [this.parseAnd(after)];
    while (this.peek().kind === 'or') operands.push(this.parseAnd(this.next()));
    return flatten('or', operands);
  }

  private parseAnd(after: Token | null): FilterNode {
    const operands = [this.parseUnary(after)];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'and') operands.push(this.parseUnary(this.next()));
      else if (t.kind === 'word' || t.kind === 'string' || t.kind === 'lparen' || t.kind === 'not') operands.push(this.parseUnary(null));
      else break;
    }
    return flatten('and', operands);
  }

  /** `after` is the operator just consumed, to say "expected a filter after 'and'". */
  private parseUnary(after: Token | null): FilterNode {
    const t = this.peek();
    if ((t.kind === 'not' || t.kind === 'lparen') && this.depth >= MAX_FILTER_DEPTH) {
      fail(t.column, `filter nested too deeply: at most ${MAX_FILTER_DEPTH} levels of '(' and 'not' inside one another`);
    }
    if (t.kind === 'not') {
      this.next();
      this.depth += 1;
      const operand = this.parseUnary(t);
      this.depth -= 1;
      return { kind: 'not', operand };
    }
    if (t.kind === 'lparen') {
      this.next();
      this.depth += 1;
      const inner = this.parseOr(t);
      this.depth -= 1;
      const close = this.peek();
      if (close.kind !== 'rparen') {
        if (close.kind === 'end') fail(t.column, "unclosed '(': expected ')' before the end");
        fail(close.column, `expected ')' to close the '(' at column ${t.column}, got ${describeToken(close)}`);
      }
      this.next();
      return inner;
    }
    if (t.kind === 'word') return this.parseWord();
    const where = after === null ? '' : ` after '${quoteInput(after.text)}'`;
    if (t.kind === 'string') {
      fail(t.column, `expected a filter${where}, got ${describeToken(t)} (a quoted value goes after a keyword, e.g. proc "Web Content")`);
    }
    fail(t.column, `expected a filter${where}, got ${describeToken(t)}`);
  }

  private parseWord(): FilterNode {
    const t = this.next();
    const lower = t.value.toLowerCase();
    if ((FILTER_KEYWORDS as readonly string[]).includes(lower)) return this.parseKeyword(lower as FilterKeyword, t);
    if (lower === 'p') return this.parseKeyword('port', t); // short for port (`p 5432`, `p postgresql`)
    if (Object.hasOwn(PROTOCOLS_OF_WORD, lower)) return { kind: 'proto', name: lower as ProtoName };

    const port = parsePortValue(t.value);
    if (port !== null) {
      if ('bad' in port) fail(t.column, port.bad);
      return port.low === port.high
        ? { kind: 'port', side: 'either', op: '=', port: port.low }
        : { kind: 'port-range', side: 'either', low: port.low, high: port.high };
    }
    const address = parseAddressValue(t.value);
    if (address !== null) return this.addressNode(address, 'either', t, 'host');

    const state = STATE_WORDS.get(lower.replaceAll('_', '-'));
    if (state !== undefined) fail(t.column, `unknown word '${quoteInput(t.value)}', did you mean 'state ${quoteInput(t.value)}'?`);
    const near = closestWords(lower, [...FILTER_KEYWORDS, ...PROTO_NAMES, 'and', 'or', 'not']);
    if (near.length > 0) fail(t.column, `unknown word '${quoteInput(t.value)}', did you mean ${quoteList(near)}?`);
    fail(
      t.column,
      `unknown word '${quoteInput(t.value)}': expected a keyword (${FILTER_KEYWORDS.join(', ')}), tcp/udp/unix, a port or an address`,
    );
  }

  /** The value after a keyword: a word or a quoted string. */
  private value(keyword: Token, what: string): Token {
    const t = this.peek();
    if (t.kind !== 'word' && t.kind !== 'string')
      fail(t.column, `expected ${what} after '${quoteInput(keyword.text)}', got ${describeToken(t)}`);
    return this.next();
  }

  /** Optional `=`, `==`, `!=` (and, for ports, `<`, `>`, `<=`, `>=` and ss's word forms). */
  private comparison(keyword: Token, orderedAllowed: boolean): PortOp | '!=' {
    const t = this.peek();
    const op =
      t.kind === 'compare'
        ? COMPARISONS.get(t.value)
        : t.kind === 'word' && orderedAllowed
          ? COMPARISONS.get(t.value.toLowerCase())
          : undefined;
    if (op === undefined) return '=';
    if (!orderedAllowed && op !== '=' && op !== '!=') {
      fail(t.column, `'${quoteInput(t.text)}' only works with port, sport and dport; '${quoteInput(keyword.text)}' takes = or !=`);
    }
    this.next();
    return op;
  }

  /** A service name as a port (`port http` → 80), or null when the word is not a name. */
  private servicePort(v: Token): PortValue {
    const lookup = this.options.servicePort;
    if (lookup === undefined || !SERVICE_NAME.test(v.value)) return null;
    const port = lookup(v.value.toLowerCase());
    if (port === undefined) fail(v.column, `unknown service '${quoteInput(v.text)}': not a port number nor a name in /etc/services`);
    return { low: port, high: port };
  }

  private parseKeyword(keyword: FilterKeyword, t: Token): FilterNode {
    switch (keyword) {
      case 'port':
      case 'sport':
      case 'dport': {
        const side = PORT_SIDE[keyword];
        const op = this.comparison(t, true);
        const v = this.value(t, `a port number`);
        const port = parsePortValue(v.value) ?? this.servicePort(v);
        if (port === null) fail(v.column, `expected a port number after '${quoteInput(t.text)}', got ${describeToken(v)}`);
        if ('bad' in port) fail(v.column, port.bad);
        if (port.low !== port.high) {
          if (op !== '=' && op !== '!=') fail(v.column, `a port range only works with = or !=, not '${op}'`);
          return negateIf(op === '!=', { kind: 'port-range', side, low: port.low, high: port.high });
        }
        return op === '!='
          ? { kind: 'not', operand: { kind: 'port', side, op: '=', port: port.low } }
          : { kind: 'port', side, op, port: port.low };
      }
      case 'host':
      case 'src':
      case 'dst': {
        const side = ADDRESS_SIDE[keyword];
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, ADDRESS_HELP);
        if (v.value.startsWith('/') || v.value.startsWith('@')) {
          if (side === 'remote') {
            fail(
              v.column,
              `/proc/net/unix does not show the peer's path, so 'dst' cannot match ${describeToken(v)}; use 'src' for a socket's own path`,
            );
          }
          return negateIf(negate, { kind: 'path', pattern: v.value });
        }
        const address = parseAddressValue(v.value);
        if (address === null) fail(v.column, `expected ${ADDRESS_HELP} after '${quoteInput(t.text)}', got ${describeToken(v)}`);
        return negateIf(negate, this.addressNode(address, side, v, t.text));
      }
      case 'state': {
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, 'a state name (established, listen, time-wait, …)');
        const word = v.value.toLowerCase().replaceAll('_', '-');
        const name = STATE_WORDS.get(word);
        if (name === undefined) {
          const near = closestWords(word, STATE_WORDS.keys());
          const hint = near.length > 0 ? `, did you mean ${quoteList(near)}?` : '';
          fail(
            v.column,
            `unknown state ${describeToken(v)}${hint} (states include established, listen, time-wait, close-wait, syn-sent, connected, all)`,
          );
        }
        return negateIf(negate, { kind: 'state', name });
      }
      case 'proc': {
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, 'a process name or pid');
        if (/^\d+$/.test(v.value)) {
          const pid = parseId(v.value, 0xffffffff);
          if (pid < 0) fail(v.column, `pid ${v.value} is too large`);
          return negateIf(negate, { kind: 'pid', pid });
        }
        if (v.value === '') fail(v.column, `expected a process name after '${quoteInput(t.text)}', got an empty string`);
        return negateIf(negate, { kind: 'proc', pattern: v.value });
      }
      case 'pid': {
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, 'a process id');
        const pid = parseId(v.value, 0xffffffff);
        if (pid < 0) fail(v.column, `expected a process id after '${quoteInput(t.text)}', got ${describeToken(v)}`);
        return negateIf(negate, { kind: 'pid', pid });
      }
      case 'user': {
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, 'a user name or uid');
        if (/^\d+$/.test(v.value)) {
          const uid = parseId(v.value, 0xffffffff);
          if (uid < 0) fail(v.column, `uid ${v.value} is out of range 0-4294967295`);
          return negateIf(negate, { kind: 'uid', uid });
        }
        if (v.value === '') fail(v.column, `expected a user name after '${quoteInput(t.text)}', got an empty string`);
        return negateIf(negate, { kind: 'user', name: v.value });
      }
      case 'proto': {
        const negate = this.comparison(t, false) === '!=';
        const v = this.value(t, 'a protocol (tcp, udp, raw, unix, tcp6, udp6, raw6, inet, inet6)');
        const lower = v.value.toLowerCase();
        if (!Object.hasOwn(PROTOCOLS_OF_WORD, lower)) {
          const near = closestWords(lower, PROTO_NAMES);
          const hint = near.length > 0 ? `, did you mean ${quoteList(near)}?` : '';
          fail(v.column, `unknown protocol ${describeToken(v)}${hint} (expected one of ${PROTO_NAMES.join(', ')})`);
        }
        return negateIf(negate, { kind: 'proto', name: lower as ProtoName });
      }
    }
  }

  private addressNode(address: AddressValue, side: Side, at: Token, keyword: string): FilterNode {
    switch (address.kind) {
      case 'bad':
        return fail(at.column, `bad address '${quoteInput(at.value)}' after '${keyword}': ${address.why}`);
      case 'any':
        return { kind: 'port', side, op: '=', port: address.port };
      case 'address':
        return {
          kind: 'address',
          side,
          family: address.family,
          address: address.address,
          prefixLength: address.prefixLength,
          port: address.port,
        };
    }
  }
}

/** Parse a token list (from tokenizeFilter) into an AST. */
export function parseFilterTokens(tokens: readonly Token[], options: ParseOptions = {}): ParseResult {
  try {
    return { ok: true, ast: new Parser(tokens, options).parseAll() };
  } catch (e) {
    if (e instanceof FilterSyntaxError) return { ok: false, error: e.filterError };
    throw e;
  }
}

/** Parse filter text into an AST; empty or blank text gives `{ kind: 'all' }`. */
export function parseFilter(text: string, options: ParseOptions = {}): ParseResult {
  const lexed = tokenizeFilter(text);
  return lexed.ok ? parseFilterTokens(lexed.tokens, options) : lexed;
}

// ---------------------------------------------------------------------------------------------
// AST → text
