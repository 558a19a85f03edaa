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

import type { Protocol } from '../model/types.js';
import { safeText } from '../model/safe-text.js';
import { describeToken, quoteInput, tokenizeFilter, type FilterError, type Token } from './lexer.js';

// ---------------------------------------------------------------------------------------------
// AST

/** Which end of a socket a predicate looks at: local (src/sport), remote (dst/dport) or either. */
export type Side = 'local' | 'remote' | 'either';

/** Port comparisons; `!=` is parsed as `not (… = …)`. */
export type PortOp = '=' | '<' | '>' | '<=' | '>=';

/** ss's socket states (its lower-case names; `listen` rather than ss's `listening`). */
export type SsState =
  | 'established'
  | 'syn-sent'
  | 'syn-recv'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'time-wait'
  | 'closed'
  | 'close-wait'
  | 'last-ack'
  | 'listen'
  | 'closing';

/** ss's state groups (ss(8) "STATE-FILTER"). */
export type StateGroup = 'all' | 'connected' | 'synchronized' | 'bucket' | 'big';

/** Canonical state name in the AST; every accepted spelling is turned into one of these. */
export type StateName = SsState | StateGroup;

export type ProtoName = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'raw' | 'raw6' | 'unix' | 'inet' | 'inet6';

export type FilterNode =
  /** The empty filter: matches every socket. Only ever the whole AST. */
  | { readonly kind: 'all' }
  | { readonly kind: 'and'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'or'; readonly operands: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly operand: FilterNode }
  | { readonly kind: 'port'; readonly side: Side; readonly op: PortOp; readonly port: number }
  /** Inclusive range, low ≤ high. */
  | { readonly kind: 'port-range'; readonly side: Side; readonly low: number; readonly high: number }
  | { readonly kind: 'state'; readonly name: StateName }
  /**
   * IP address or CIDR. `address` is the address as typed (lower-cased, without brackets, prefix
   * or port); `prefixLength` is 32 / 128 when none was given; `port` comes from `1.2.3.4:80`.
   */
  | {
      readonly kind: 'address';
      readonly side: Side;
      readonly family: 'ipv4' | 'ipv6';
      readonly address: string;
      readonly prefixLength: number;
      readonly port: number | null;
    }
  /** UNIX socket path (exact or glob), from `src /run/*.sock` or `host @abstract`. */
  | { readonly kind: 'path'; readonly pattern: string }
  /** Owner command name (/proc/<pid>/comm), exact or glob with `*` and `?`. */
  | { readonly kind: 'proc'; readonly pattern: string }
  | { readonly kind: 'pid'; readonly pid: number }
  | { readonly kind: 'user'; readonly name: string }
  | { readonly kind: 'uid'; readonly uid: number }
  | { readonly kind: 'proto'; readonly name: ProtoName };

export type ParseResult =
  | { readonly ok: true; readonly ast: FilterNode }
  | { readonly ok: false; readonly error: FilterError };

// ---------------------------------------------------------------------------------------------
// Vocabulary

/** Which /proc/net tables each protocol word selects. */
export const PROTOCOLS_OF_WORD = {
  tcp: ['tcp', 'tcp6'],
  tcp6: ['tcp6'],
  udp: ['udp', 'udp6'],
  udp6: ['udp6'],
  raw: ['raw', 'raw6'],
  raw6: ['raw6'],
  unix: ['unix'],
  inet: ['tcp', 'udp', 'raw'],
  inet6: ['tcp6', 'udp6', 'raw6'],
} as const satisfies Record<ProtoName, readonly Protocol[]>;

const PROTO_NAMES = Object.keys(PROTOCOLS_OF_WORD) as ProtoName[];

/**
 * Every spelling `state` accepts, after lower-casing and turning '_' into '-' (so the kernel's
 * SYN_SENT and FIN_WAIT1 arrive as syn-sent and fin-wait1). Kernel names, ss names, ss groups
 * and short forms. UNIX kernel names map the way ss maps UNIX states (CONNECTING → syn-sent,
 * DISCONNECTING → closing, UNCONNECTED → closed). What each canonical name matches is decided
 * by SS_STATE_OF in evaluate.ts.
 */
export const STATE_WORDS: ReadonlyMap<string, StateName> = new Map<string, StateName>([
  ['established', 'established'],
  ['estab', 'established'],
  ['syn-sent', 'syn-sent'],
  ['connecting', 'syn-sent'],
  ['syn-recv', 'syn-recv'],
  ['new-syn-recv', 'syn-recv'],
  ['fin-wait-1', 'fin-wait-1'],
  ['fin-wait1', 'fin-wait-1'],
  ['fin-wait-2', 'fin-wait-2'],
  ['fin-wait2', 'fin-wait-2'],
  ['time-wait', 'time-wait'],
  ['timewait', 'time-wait'],
  ['tw', 'time-wait'],
  ['closed', 'closed'],
  ['close', 'closed'],
  ['unconn', 'closed'],
  ['unconnected', 'closed'],
  ['close-wait', 'close-wait'],
  ['cw', 'close-wait'],
  ['last-ack', 'last-ack'],
  ['listen', 'listen'],
  ['listening', 'listen'],
  ['closing', 'closing'],
  ['disconnecting', 'closing'],
  ['all', 'all'],
  ['connected', 'connected'],
  ['synchronized', 'synchronized'],
  ['bucket', 'bucket'],
  ['big', 'big'],
]);

/** Keywords that start a predicate. */
export const FILTER_KEYWORDS = ['port', 'sport', 'dport', 'state', 'host', 'src', 'dst', 'proc', 'pid', 'user', 'proto'] as const;
type Keyword = (typeof FILTER_KEYWORDS)[number];

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
// Suggestions

/**
 * Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), where a swap of
 * two adjacent letters costs only 0.5: it is the commonest typo, so 'prot' is nearer 'port'
 * (0.5) than 'proc' or 'proto' (1).
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const prev = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 0.5);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}

/**
 * The candidates closest to `word`: at most 2 edits (1 for words of 3 letters or fewer). Among
 * equally close ones, those of the same length as the word win (a swapped or wrong letter is a
 * likelier typo than a missing one), so 'prot' suggests 'port' rather than 'proto'.
 */
export function closestWords(word: string, candidates: Iterable<string>): string[] {
  const w = word.toLowerCase();
  const limit = w.length <= 3 ? 1 : 2;
  let best: { distance: number; lengthDiff: number } = { distance: limit + 1, lengthDiff: 0 };
  let found: string[] = [];
  for (const c of candidates) {
    const distance = editDistance(w, c);
    const lengthDiff = Math.abs(c.length - w.length);
    if (distance < best.distance || (distance === best.distance && lengthDiff < best.lengthDiff)) {
      best = { distance, lengthDiff };
      found = [c];
    } else if (distance === best.distance && lengthDiff === best.lengthDiff && !found.includes(c)) {
      found.push(c);
    }
  }
  return found.slice(0, 3);
}

function quoteList(words: readonly string[]): string {
  const quoted = words.map((w) => `'${w}'`);
  return quoted.length <= 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------
// Numbers and addresses (also used by the evaluator on every socket, so: no allocation, no regex)

/** Dotted-quad IPv4 in text[start, end) → unsigned 32-bit value, or -1 when it is not one. */
export function parseIpv4(text: string, start = 0, end = text.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      digits += 1;
      if (digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots += 1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Scratch for parseIpv6Into: the eight 16-bit groups. Only used synchronously inside one call. */
const IPV6_GROUPS = new Uint16Array(8);

/**
 * Textual IPv6 (full, '::'-compressed, or with a dotted IPv4 tail like ::ffff:1.2.3.4) → four
 * 32-bit words, most significant first, written into `out`. Returns false (out undefined) when the
 * text is not an IPv6 address. No zone ids ("%eth0"): /proc never shows them.
 */
export function parseIpv6Into(text: string, out: Int32Array): boolean {
  const len = text.length;
  const g = IPV6_GROUPS;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (len < 2) return false;
  if (text.charCodeAt(0) === 58 /* : */) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    if (n === 8) return false;
    let value = 0;
    let j = i;
    for (; j < len; j++) {
      const d = hexDigit(text.charCodeAt(j));
      if (d < 0) break;
      value = value * 16 + d;
    }
    if (j < len && text.charCodeAt(j) === 46 /* . */) {
      if (n > 6) return false;
      const v4 = parseIpv4(text, i, len);
      if (v4 < 0) return false;
      g[n++] = Math.floor(v4 / 65536);
      g[n++] = v4 % 65536;
      i = len;
      break;
    }
    if (j === i || j - i > 4) return false;
    g[n++] = value;
    i = j;
    if (i === len) break;
    if (text.charCodeAt(i) !== 58) return false;
    i += 1;
    if (i === len) return false;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i += 1;
    }
  }
  if (gap < 0) {
    if (n !== 8) return false;
  } else {
    if (n > 7) return false;
    const tail = n - gap;
    for (let k = 0; k < tail; k++) g[7 - k] = g[n - 1 - k] as number;
    for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((g[2 * w] as number) << 16) | (g[2 * w + 1] as number);
  return true;
}

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

// ---------------------------------------------------------------------------------------------
// Parser

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
  | { readonly kind: 'address'; readonly family: 'ipv4' | 'ipv6'; readonly address: string; readonly prefixLength: number; readonly port: number | null }
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

/** `N`, `:N`, `N-M`, `:N-M`. */
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
    if ((FILTER_KEYWORDS as readonly string[]).includes(lower)) return this.parseKeyword(lower as Keyword, t);
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
    fail(t.column, `unknown word '${quoteInput(t.value)}': expected a keyword (${FILTER_KEYWORDS.join(', ')}), tcp/udp/unix, a port or an address`);
  }

  /** The value after a keyword: a word or a quoted string. */
  private value(keyword: Token, what: string): Token {
    const t = this.peek();
    if (t.kind !== 'word' && t.kind !== 'string') fail(t.column, `expected ${what} after '${quoteInput(keyword.text)}', got ${describeToken(t)}`);
    return this.next();
  }

  /** Optional `=`, `==`, `!=` (and, for ports, `<`, `>`, `<=`, `>=` and ss's word forms). */
  private comparison(keyword: Token, orderedAllowed: boolean): PortOp | '!=' {
    const t = this.peek();
    const op =
      t.kind === 'compare' ? COMPARISONS.get(t.value) : t.kind === 'word' && orderedAllowed ? COMPARISONS.get(t.value.toLowerCase()) : undefined;
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

  private parseKeyword(keyword: Keyword, t: Token): FilterNode {
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
            fail(v.column, `/proc/net/unix does not show the peer's path, so 'dst' cannot match ${describeToken(v)}; use 'src' for a socket's own path`);
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
          fail(v.column, `unknown state ${describeToken(v)}${hint} (states include established, listen, time-wait, close-wait, syn-sent, connected, all)`);
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

const PORT_KEYWORD: Readonly<Record<Side, string>> = { either: 'port', local: 'sport', remote: 'dport' };
const ADDRESS_KEYWORD: Readonly<Record<Side, string>> = { either: 'host', local: 'src', remote: 'dst' };

/** A value as it must be typed to come back as one word: quoted when it would not lex as one. */
function quoteValue(value: string): string {
  const plain = value !== '' && /^[^\s()!=<>&|"']+$/.test(value) && !['and', 'or', 'not'].includes(value.toLowerCase());
  if (plain) return value;
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * Normalised text of an AST, for showing the active filter: canonical keywords and state names,
 * `not` for `!=`, parentheses only where precedence needs them. Parsing the result gives the same
 * AST back. The empty filter describes as ''.
 */
export function describeFilter(node: FilterNode): string {
  switch (node.kind) {
    case 'all':
      return '';
    case 'and':
      return node.operands.map((o) => (o.kind === 'or' ? `(${describeFilter(o)})` : describeFilter(o))).join(' and ');
    case 'or':
      return node.operands.map(describeFilter).join(' or ');
    case 'not': {
      const inner = describeFilter(node.operand);
      return node.operand.kind === 'and' || node.operand.kind === 'or' ? `not (${inner})` : `not ${inner}`;
    }
    case 'port':
      return node.op === '=' ? `${PORT_KEYWORD[node.side]} ${node.port}` : `${PORT_KEYWORD[node.side]} ${node.op} ${node.port}`;
    case 'port-range':
      return `${PORT_KEYWORD[node.side]} ${node.low}-${node.high}`;
    case 'state':
      return `state ${node.name}`;
    case 'address': {
      const full = node.family === 'ipv4' ? 32 : 128;
      const cidr = node.prefixLength === full ? node.address : `${node.address}/${node.prefixLength}`;
      const text = node.port === null ? cidr : node.family === 'ipv6' ? `[${cidr}]:${node.port}` : `${cidr}:${node.port}`;
      return `${ADDRESS_KEYWORD[node.side]} ${text}`;
    }
    case 'path':
      return `src ${quoteValue(node.pattern)}`;
    case 'proc':
      return `proc ${quoteValue(node.pattern)}`;
    case 'pid':
      return `pid ${node.pid}`;
    case 'user':
      return `user ${quoteValue(node.name)}`;
    case 'uid':
      return `user ${node.uid}`;
    case 'proto':
      return `proto ${node.name}`;
  }
}
