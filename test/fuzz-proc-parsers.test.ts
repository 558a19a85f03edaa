// Fuzz: the /proc text parsers on recorded tables with random edits (a character replaced, a
// slice cut or inserted, a line repeated) and on arbitrary text. A parser never throws; every
// socket it returns has integer ports in 0–65535 (never NaN), integer non-negative queues and
// inode, a known state; sockets plus skipped lines never exceed the lines given; counters are
// integers. Seed and runs: test/helpers/fuzz.ts.

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { SocketEntry } from '../src/model/types.js';
import { parsePortRange, parseSnmpTable, parseSockstat } from '../src/proc/parse-counters.js';
import { countTcpStatesFast, parseInetBytes, parseInetTable, type InetProtocol } from '../src/proc/parse-inet.js';
import { TCP_STATES } from '../src/model/state-info.js';
import { parseUnixTable } from '../src/proc/parse-unix.js';
import { parseSsListenBacklogs, parseSsListenLine } from '../src/proc/read-backlogs.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns, mutatedText } from './helpers/fuzz.js';
import { parseInetTableText } from './helpers/parse-inet-text-reference.js';
import { REPO_ROOT } from './helpers/tmux.js';

const RECORDED = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const HANDMADE = path.join(REPO_ROOT, 'test/fixtures/proc-text/handmade');
const read = (dir: string, name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');

const INET_FILES: readonly [string, InetProtocol][] = [
  ['tcp', 'tcp'],
  ['tcp6', 'tcp6'],
  ['udp', 'udp'],
  ['udp6', 'udp6'],
  ['raw', 'raw'],
  ['raw6', 'raw6'],
];
const INET_TEXT = new Map(INET_FILES.map(([f]) => [f, read(RECORDED, f)]));
const HANDMADE_INET = fs
  .readdirSync(HANDMADE)
  .filter((f) => /^(tcp|udp|raw)/.test(f))
  .map((f) => read(HANDMADE, f));

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;
const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
const lineCount = (text: string): number => text.split('\n').filter((l) => l.trim() !== '').length;

function expectSaneInet(sockets: readonly SocketEntry[], protocol: InetProtocol): void {
  for (const s of sockets) {
    expect(s.protocol).toBe(protocol);
    expect(isPort(s.localPort) && isPort(s.remotePort), JSON.stringify(s)).toBe(true);
    expect(isCount(s.recvQ) && isCount(s.sendQ) && isCount(s.inode), JSON.stringify(s)).toBe(true);
    expect(Number.isFinite(s.timerMs) && Number.isFinite(s.retransmits) && Number.isFinite(s.uid), JSON.stringify(s)).toBe(true);
    expect(typeof s.localAddress === 'string' && typeof s.remoteAddress === 'string').toBe(true);
    if (protocol === 'tcp' || protocol === 'tcp6') expect(TCP_STATES).toContain(s.state);
    expect(s.key).toContain(String(s.localPort));
  }
}

/** One of the recorded tables, with its protocol. */
const recordedInet = fc.constantFrom(...INET_FILES).map(([file, protocol]) => ({ text: INET_TEXT.get(file) as string, protocol }));

describe('fuzz: /proc parsers', () => {
  it(
    'parseInetTable on mutated recorded and hand-made tables: never throws, ports always integers 0–65535',
    () => {
      fc.assert(
        fc.property(
          fc
            .oneof(
              recordedInet,
              fc
                .tuple(fc.constantFrom(...HANDMADE_INET), fc.constantFrom<InetProtocol>('tcp', 'tcp6', 'udp'))
                .map(([text, protocol]) => ({ text, protocol })),
            )
            .chain(({ text, protocol }) => mutatedText(fc.constant(text)).map((mutated) => ({ text: mutated, protocol }))),
          ({ text, protocol }) => {
            const parsed = parseInetTable(text, protocol);
            expectSaneInet(parsed.sockets, protocol);
            expect(parsed.sockets.length + parsed.skipped).toBeLessThanOrEqual(lineCount(text));
            const fast = countTcpStatesFast(text);
            expect(isCount(fast.total) && isCount(fast.skipped)).toBe(true);
            expect(Object.values(fast.counts).reduce((a, b) => a + b, 0)).toBe(fast.total);
          },
        ),
        { numRuns: fuzzRuns(120) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'the bytes parser gives what the text parser gave, on mutated tables and on bytes that are not UTF-8; reusing a previous parse changes nothing',
    () => {
      const table = fc.oneof(
        recordedInet,
        fc
          .tuple(fc.constantFrom(...HANDMADE_INET), fc.constantFrom<InetProtocol>('tcp', 'tcp6', 'udp'))
          .map(([text, protocol]) => ({ text, protocol })),
      );
      fc.assert(
        fc.property(
          table.chain(({ text, protocol }) =>
            fc.record({
              protocol: fc.constant(protocol),
              before: fc.oneof(fc.constant(text), mutatedText(fc.constant(text))),
              after: mutatedText(fc.constant(text)),
              // Raw bytes spliced into the encoded text (invalid UTF-8 sequences, lone continuation bytes).
              splices: fc.array(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 3 })), { maxLength: 3 }),
              slack: fc.uint8Array({ maxLength: 40 }),
            }),
          ),
          ({ protocol, before, after, splices, slack }) => {
            let bytes = Buffer.from(after, 'utf8');
            for (const [at, raw] of splices) {
              const i = at % (bytes.length + 1);
              bytes = Buffer.concat([bytes.subarray(0, i), raw, bytes.subarray(i)]);
            }
            const expected = parseInetTableText(bytes.toString('utf8'), protocol);
            expect(parseInetBytes(bytes, bytes.length, protocol, null)).toMatchObject(expected);
            expect(parseInetTable(after, protocol)).toEqual(parseInetTableText(after, protocol));
            // Reusing the parse of `before`, the table read into a buffer with stale bytes after it.
            const old = Buffer.from(before, 'utf8');
            const previous = parseInetBytes(old, old.length, protocol, null);
            const buffer = Buffer.concat([bytes, slack]);
            const warm = parseInetBytes(buffer, bytes.length, protocol, { bounds: previous.bounds, entries: previous.sockets });
            expect(warm.sockets).toEqual(expected.sockets);
            expect(warm.skipped).toBe(expected.skipped);
          },
        ),
        { numRuns: fuzzRuns(150) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'parseInetTable on lines with random hex fields: ports never NaN or out of range',
    () => {
      let parsedSome = 0;
      // Mostly well-formed hex of the right width (so many lines parse), sometimes anything near it.
      const hex = (n: number) =>
        fc.oneof(
          { weight: 30, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789ABCDEF'), minLength: n, maxLength: n }) },
          { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789ABCDEFabcdefxg-+ '), minLength: 0, maxLength: n + 2 }) },
        );
      const line = (addressWidth: number) =>
        fc
          .record({
            sl: fc.nat(9999),
            la: hex(addressWidth),
            lp: hex(4),
            ra: hex(addressWidth),
            rp: hex(4),
            st: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('01', '06', '07', '0A', '0C') }, { weight: 1, arbitrary: hex(2) }),
            tx: hex(8),
            rx: hex(8),
            tr: hex(2),
            when: hex(8),
            retr: hex(8),
            uid: fc.nat().map(String),
            inode: fc.nat().map(String),
            rest: fc.string({ maxLength: 30 }),
          })
          .map(
            (f) =>
              `${f.sl}: ${f.la}:${f.lp} ${f.ra}:${f.rp} ${f.st} ${f.tx}:${f.rx} ${f.tr}:${f.when} ${f.retr} ${f.uid} 0 ${f.inode} ${f.rest}`,
          );
      const table = fc
        .constantFrom<InetProtocol>('tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6')
        .chain((protocol) => fc.array(line(protocol.endsWith('6') ? 32 : 8), { maxLength: 8 }).map((lines) => ({ protocol, lines })));
      fc.assert(
        fc.property(table, ({ protocol, lines }) => {
          const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n${lines.join('\n')}\n`;
          const parsed = parseInetTable(text, protocol);
          expectSaneInet(parsed.sockets, protocol);
          expect(parsed.sockets.length + parsed.skipped).toBeLessThanOrEqual(lines.length);
          parsedSome += parsed.sockets.length;
        }),
        { numRuns: fuzzRuns(120) },
      );
      expect(parsedSome).toBeGreaterThan(0); // the generator reaches the parser's inner paths
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'parseUnixTable on mutated recorded text: never throws; inodes integers, paths strings or null',
    () => {
      fc.assert(
        fc.property(mutatedText(fc.constant(read(RECORDED, 'unix'))), (text) => {
          const parsed = parseUnixTable(text);
          for (const s of parsed.sockets) {
            expect(s.protocol).toBe('unix');
            expect(isCount(s.inode), JSON.stringify(s)).toBe(true);
            expect(s.path === null || typeof s.path === 'string').toBe(true);
            expect(Number.isFinite(s.localPort) && Number.isFinite(s.remotePort)).toBe(true);
          }
          expect(parsed.sockets.length + parsed.skipped).toBeLessThanOrEqual(lineCount(text));
        }),
        { numRuns: fuzzRuns(120) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'counter parsers (snmp, netstat, sockstat, port range) on mutated and arbitrary text: integers only, never throw',
    () => {
      const sources = ['snmp', 'netstat', 'sockstat', 'sockstat6', 'ip_local_port_range'].map((f) => read(RECORDED, f));
      fc.assert(
        fc.property(
          fc.oneof(mutatedText(fc.constantFrom(...sources)), fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })),
          (text) => {
            for (const table of [parseSnmpTable(text), parseSockstat(text)]) {
              for (const [name, value] of Object.entries(table)) {
                expect(Number.isSafeInteger(value), `${name} = ${value}`).toBe(true);
                expect(name).toMatch(/^[^.]*\..+/);
              }
            }
            const range = parsePortRange(text);
            if (range !== null) expect(isPort(range.low) && isPort(range.high) && range.low <= range.high).toBe(true);
          },
        ),
        { numRuns: fuzzRuns(120) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    '`ss -ltnH` output (the listen backlogs of --once and the dashboard), mutated: integer ports 1–65535 and queues, keys as listener health looks them up',
    () => {
      const listenLines = [
        'LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*',
        'LISTEN 0      128    0.0.0.0:22             0.0.0.0:*',
        'LISTEN 3      9      [::1]:8080             [::]:*',
        'LISTEN 0      511    *:9464                 *:*',
        '0      5      127.0.0.1:57135 0.0.0.0:*',
        'LISTEN 0      128    [fe80::1%eth0]:443     [::]:*',
      ].join('\n');
      fc.assert(
        fc.property(
          fc.oneof(
            mutatedText(fc.constant(listenLines)),
            mutatedText(fc.constant(read(path.join(REPO_ROOT, 'test/fixtures/ss-output'), 'bbr-listener.txt'))),
            fc.string({ maxLength: 80 }),
          ),
          (text) => {
            for (const line of text.split('\n')) {
              const l = parseSsListenLine(line);
              if (l === null) continue;
              expect(isPort(l.port) && l.port > 0, line).toBe(true);
              expect(isCount(l.recvQ) && isCount(l.sendQ), line).toBe(true);
              expect(l.address).not.toBe('');
            }
            for (const [key, backlog] of parseSsListenBacklogs(text)) {
              expect(key).toMatch(/^(?:\[[^\]]+\]|[^:[\]]+):\d+$/);
              expect(isCount(backlog)).toBe(true);
            }
          },
        ),
        { numRuns: fuzzRuns(120) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'arbitrary text as any table: never throws',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })),
          fc.constantFrom<InetProtocol>('tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6'),
          (text, protocol) => {
            expectSaneInet(parseInetTable(text, protocol).sockets, protocol);
            parseUnixTable(text);
            countTcpStatesFast(text);
          },
        ),
        { numRuns: fuzzRuns(120) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
