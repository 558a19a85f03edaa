// Fuzz: the filter language (lexer → parser → evaluator) on arbitrary text and on sentences of
// its own words. Whatever is typed: no exception but a clean FilterError (a column inside the
// text, an inert one-line message), nesting bounded by MAX_FILTER_DEPTH, a compiled filter that
// answers true or false for every kind of socket, and describeFilter text that parses back to
// the same AST. Seed and runs: test/helpers/fuzz.ts.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  compileFilter,
  describeFilter,
  formatFilterError,
  MAX_FILTER_DEPTH,
  parseFilter,
  tokenizeFilter,
  type FilterError,
} from '../src/filter/index.js';
import type { SocketRecord } from '../src/model/types.js';
import { FUZZ_TIMEOUT_MS, NASTY_CHARS, RAW_TERMINAL_CONTROL, fuzzRuns } from './helpers/fuzz.js';
import { rec } from './helpers/records.js';

/** Sockets of every protocol and family, with and without owners. */
const SOCKETS: readonly SocketRecord[] = [
  rec({}),
  rec({
    state: 'LISTEN',
    localAddress: '0.0.0.0',
    localPort: 80,
    remoteAddress: '0.0.0.0',
    remotePort: 0,
    owner: { pid: 10, command: 'nginx', commandLine: 'nginx -g', uid: 0, fd: 6 },
  }),
  rec({ protocol: 'tcp6', state: 'ESTABLISHED', localAddress: '::1', localPort: 443, remoteAddress: '2001:db8::7', remotePort: 51000 }),
  rec({
    protocol: 'tcp6',
    state: 'TIME_WAIT',
    localAddress: '::ffff:10.0.0.1',
    localPort: 40000,
    remoteAddress: '::ffff:10.0.0.2',
    remotePort: 5432,
    inode: 0,
  }),
  rec({ protocol: 'udp', state: 'UNCONN', localAddress: '127.0.0.53', localPort: 53, remoteAddress: '0.0.0.0', remotePort: 0 }),
  rec({ protocol: 'udp6', state: 'ESTABLISHED', localAddress: 'fe80::1', localPort: 123, remoteAddress: 'fe80::2', remotePort: 123 }),
  rec({ protocol: 'unix', state: 'LISTENING', path: '/run/a b\x1b.sock' }),
  rec({ protocol: 'unix', state: 'CONNECTED', path: null }),
  rec({
    state: 'SYN_RECV',
    localPort: 65535,
    remotePort: 1,
    owner: { pid: 4_000_000, command: 'wéird\u202e', commandLine: '', uid: 1000, fd: 3 },
    user: 'bob',
  }),
];

/** A FilterError is clean: a column within the text (or just past it), an inert one-line message. */
function expectCleanError(text: string, error: FilterError): void {
  expect(Number.isInteger(error.column)).toBe(true);
  expect(error.column).toBeGreaterThanOrEqual(1);
  expect(error.column).toBeLessThanOrEqual(text.length + 1);
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  expect(error.message).not.toContain('\n');
  expect(error.message).not.toMatch(RAW_TERMINAL_CONTROL);
  expect(error.message.length).toBeLessThanOrEqual(1000);
  const printed = formatFilterError(text, error);
  expect(printed.split('\n')).toHaveLength(3);
  expect(printed).not.toMatch(RAW_TERMINAL_CONTROL);
}

/** Compile and run on every socket: only booleans come out. */
function expectEvaluates(text: string): void {
  const c = compileFilter(text);
  if (!c.ok) return expectCleanError(text, c.error);
  for (const s of SOCKETS) expect(typeof c.filter(s)).toBe('boolean');
  // The normalised text means the same filter: it parses back to the same AST.
  const again = parseFilter(describeFilter(c.ast));
  expect(again.ok, `describeFilter(${JSON.stringify(text)}) = ${JSON.stringify(describeFilter(c.ast))}`).toBe(true);
  if (again.ok) expect(again.ast).toEqual(c.ast);
}

// Words of the language, values of every kind, and a few that are nearly right.
const WORDS = [
  'port',
  'sport',
  'dport',
  'host',
  'src',
  'dst',
  'state',
  'proc',
  'pid',
  'user',
  'proto',
  'and',
  'or',
  'not',
  '&&',
  '||',
  '!',
  '&',
  '|',
  '(',
  ')',
  '=',
  '==',
  '!=',
  '<',
  '>',
  '<=',
  '>=',
  'tcp',
  'udp',
  'unix',
  'tcp6',
  'udp6',
  'raw',
  'inet',
  'inet6',
  'established',
  'listen',
  'time-wait',
  'close-wait',
  'syn-recv',
  'syn-sent',
  'connected',
  'all',
  'synchronized',
  'bucket',
  'big',
  'closed',
  'estab',
  'tw',
  'cw',
  '22',
  ':443',
  '0',
  '65535',
  '65536',
  '-1',
  '8000-8100',
  '8100-8000',
  '1e3',
  '0x10',
  '127.0.0.1',
  '10.0.0.0/8',
  '10.0.0.0/33',
  '[::1]:443',
  '::1',
  'fe80::/10',
  '::ffff:1.2.3.4',
  '1.2.3.4:80',
  '256.1.1.1',
  '[::1',
  '*:*',
  'nginx',
  'ngin*',
  '?',
  '"a b"',
  "'x'",
  '"',
  "'",
  'root',
  '1000',
  '/run/*.sock',
  '@abstract',
];
const wordArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...WORDS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(...NASTY_CHARS) },
);
const sentenceArb = fc
  .array(wordArb, { maxLength: 14 })
  .chain((words) =>
    fc
      .array(fc.constantFrom(' ', '', '  ', '\t'), { minLength: words.length, maxLength: words.length })
      .map((seps) => words.map((w, i) => `${w}${seps[i] ?? ' '}`).join('')),
  );

describe('fuzz: filter language', () => {
  it(
    'arbitrary text (any UTF-16, controls, lone surrogates): ok or a clean error, never an exception',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 60 }),
            fc.string({ unit: 'binary', maxLength: 40 }),
            fc.string({ unit: fc.constantFrom(...NASTY_CHARS), maxLength: 40 }),
          ),
          (text) => {
            const lexed = tokenizeFilter(text);
            if (!lexed.ok) expectCleanError(text, lexed.error);
            else {
              let last = 0;
              for (const t of lexed.tokens) {
                expect(t.column).toBeGreaterThan(last);
                expect(t.column).toBeLessThanOrEqual(text.length + 1);
                last = t.column;
              }
              expect(lexed.tokens[lexed.tokens.length - 1]?.kind).toBe('end');
            }
            expectEvaluates(text);
          },
        ),
        { numRuns: fuzzRuns(200) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "sentences of the language's own words: ok (evaluates, describes back to the same AST) or a clean error",
    () => {
      fc.assert(
        fc.property(sentenceArb, (text) => {
          expectEvaluates(text);
        }),
        { numRuns: fuzzRuns(300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    `nesting of '(' and 'not' at random depths: accepted up to ${MAX_FILTER_DEPTH}, a clean error naming the limit beyond`,
    () => {
      const level = fc.constantFrom('(', 'not ', '!', 'not (', '( not ');
      fc.assert(
        fc.property(
          fc.array(level, { maxLength: 260 }),
          fc.constantFrom('tcp', 'port 22', 'state listen and proc nginx'),
          (levels, leaf) => {
            const open = levels.join('');
            const closing = levels
              .map((l) => (l.includes('(') ? ')' : ''))
              .reverse()
              .join('');
            const text = `${open}${leaf}${closing}`;
            const depth = levels.reduce((n, l) => n + (l === 'not (' || l === '( not ' ? 2 : 1), 0);
            const r = parseFilter(text);
            if (depth <= MAX_FILTER_DEPTH) {
              expect(r.ok, text).toBe(true);
              expectEvaluates(text);
            } else {
              expect(r.ok).toBe(false);
              if (!r.ok) {
                expectCleanError(text, r.error);
                expect(r.error.message).toContain(`at most ${MAX_FILTER_DEPTH} levels`);
              }
            }
          },
        ),
        { numRuns: fuzzRuns(150) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'very deep input of any shape: a clean error, never a stack overflow',
    () => {
      fc.assert(
        fc.property(fc.integer({ min: MAX_FILTER_DEPTH + 1, max: 20_000 }), fc.constantFrom('(', 'not ', '!', '( '), (n, unit) => {
          const text = `${unit.repeat(n)}tcp${unit.includes('(') ? ')'.repeat(n) : ''}`;
          const r = parseFilter(text);
          expect(r.ok).toBe(false);
          if (!r.ok) expectCleanError(text, r.error);
        }),
        { numRuns: fuzzRuns(20) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
