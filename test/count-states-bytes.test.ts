// countTcpStatesInBytes (the --summary count over the bytes of /proc/net/tcp, no text decoded)
// against countTcpStatesFast over the same content as text: the same counts and skipped lines on
// the recorded and hand-made tables, on lines with non-ASCII or invalid UTF-8 before, inside and
// after the state column, and on random edits of those tables. And collectStateCounts over a ProcFs
// that gives bytes against the same over one that gives only text. The counts taken a piece at a
// time (TcpStateCounter, ProcFs.readChunks: what --summary reads through) against the same of the
// whole table.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { collectStateCounts } from '../src/proc/collect-counts.js';
import { TcpStateCounter, countTcpStatesFast, countTcpStatesInBytes } from '../src/proc/parse-inet.js';
import { createProcFs, type ProcFs } from '../src/proc/proc-fs.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns, mutatedText } from './helpers/fuzz.js';
import { REPO_ROOT } from './helpers/tmux.js';

const RECORDED = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const HANDMADE = path.join(REPO_ROOT, 'test/fixtures/proc-text/handmade');
const TABLES: readonly [string, string][] = [
  ['recorded tcp', fs.readFileSync(path.join(RECORDED, 'tcp'), 'utf8')],
  ['recorded tcp6', fs.readFileSync(path.join(RECORDED, 'tcp6'), 'utf8')],
  ...['tcp-all-states', 'tcp-malformed', 'tcp6-addresses'].map((f): [string, string] => [
    f,
    fs.readFileSync(path.join(HANDMADE, f), 'utf8'),
  ]),
];
const TCP = TABLES[0]![1];

const sameAsText = (bytes: Buffer): void => {
  expect(countTcpStatesInBytes(bytes)).toEqual(countTcpStatesFast(bytes.toString('utf8')));
};

describe('countTcpStatesInBytes', () => {
  it.each(TABLES)('counts %s as countTcpStatesFast counts its text', (_name, text) => {
    const bytes = Buffer.from(text, 'utf8');
    sameAsText(bytes);
    expect(countTcpStatesInBytes(bytes).total).toBeGreaterThan(0);
  });

  it('agrees on lines with non-ASCII text or invalid UTF-8 anywhere in them', () => {
    const lines = TCP.split('\n');
    const line = lines[2]!;
    const insertions = [Buffer.from('é'), Buffer.from('\u{1f600}'), Buffer.from([0xff]), Buffer.from([0xe2, 0x82]), Buffer.from([0xc3])];
    for (let at = 0; at <= line.length; at += 3) {
      for (const extra of insertions) {
        for (const replace of [0, 1, 2]) {
          const edited = Buffer.concat([Buffer.from(line.slice(0, at)), extra, Buffer.from(line.slice(at + replace))]);
          // As the first data line (it sets the endpoint width) and as a later one.
          sameAsText(Buffer.concat([Buffer.from(`${lines[0]}\n`), edited, Buffer.from(`\n${lines.slice(1).join('\n')}`)]));
          sameAsText(
            Buffer.concat([Buffer.from(`${lines.slice(0, 4).join('\n')}\n`), edited, Buffer.from(`\n${lines.slice(4).join('\n')}`)]),
          );
        }
      }
    }
  });

  it('empty input, a header alone, blank lines, no final newline', () => {
    for (const text of ['', `${TCP.split('\n')[0]}\n`, '\n\n', TCP.trimEnd(), `   \n${TCP}`]) sameAsText(Buffer.from(text));
  });

  it(
    'agrees on random edits of the tables',
    () => {
      fc.assert(
        fc.property(mutatedText(fc.constantFrom(...TABLES.map(([, t]) => t))), (text) => {
          sameAsText(Buffer.from(text, 'utf8'));
        }),
        { numRuns: fuzzRuns(200) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'agrees on random bytes spliced into the tables (invalid UTF-8 included)',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...TABLES.map(([, t]) => Buffer.from(t))),
          fc.nat(),
          fc.uint8Array({ minLength: 1, maxLength: 6 }),
          (bytes, at, extra) => {
            const cut = at % (bytes.length + 1);
            sameAsText(Buffer.concat([bytes.subarray(0, cut), extra, bytes.subarray(cut)]));
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});

describe('collectStateCounts from bytes', () => {
  let root = '';
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-counts-'));
    fs.mkdirSync(path.join(root, 'net'));
    for (const f of ['tcp', 'udp', 'udp6', 'raw', 'unix']) fs.copyFileSync(path.join(RECORDED, f), path.join(root, 'net', f));
    // A malformed tcp6 (skipped lines are reported per file) and a table that cannot be read (a directory).
    fs.copyFileSync(path.join(HANDMADE, 'tcp-malformed'), path.join(root, 'net', 'tcp6'));
    fs.mkdirSync(path.join(root, 'net', 'raw6'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('counts what it counts from the text of a ProcFs without byte reads (a hand-made fake), in the same key order', () => {
    const base = createProcFs(root);
    const textOnly: ProcFs = { ...base, readBytes: undefined, readChunks: undefined };
    const bytesOnly: ProcFs = { ...base, readChunks: undefined };
    const streamed = collectStateCounts(base);
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(collectStateCounts(textOnly)));
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(collectStateCounts(bytesOnly)));
    expect(streamed.counts.tcp['ESTABLISHED']).toBeGreaterThan(0);
    expect(Object.keys(streamed.files)).toEqual(['net/tcp6']);
    expect(Object.keys(streamed.unreadable)).toEqual(['net/raw6']);
  });

  it('streams a table with lines longer than its first buffer, and refuses one over the size cap', () => {
    const lines = TCP.split('\n');
    // A 200 kB line (the read buffer starts at 64 kB and doubles), counted as skipped, between counted lines.
    const long = `${lines[2]!.slice(0, 20)}${'x'.repeat(200_000)}`;
    fs.writeFileSync(path.join(root, 'net', 'tcp'), [...lines.slice(0, 3), long, ...lines.slice(3)].join('\n'));
    const base = createProcFs(root);
    const streamed = collectStateCounts(base);
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(collectStateCounts({ ...base, readChunks: undefined })));
    expect(streamed.files['net/tcp']).toBe(1);
    const capped = createProcFs(root, { maxTextBytes: 100_000 });
    const refused = collectStateCounts(capped, ['tcp']);
    expect(refused.unreadable).toEqual({ 'net/tcp': 'larger than 500 MB' });
    expect(refused.counts.tcp).toEqual({});
    fs.copyFileSync(path.join(RECORDED, 'tcp'), path.join(root, 'net', 'tcp'));
  });
});

describe('TcpStateCounter', () => {
  /** The counts of `bytes` given to a counter in pieces cut at `cuts`, each piece read from a buffer holding the unused rest first. */
  const inPieces = (bytes: Buffer, cuts: readonly number[]): unknown => {
    const counter = new TcpStateCounter();
    const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    let rest = Buffer.alloc(0);
    let from = 0;
    for (const cut of [...at, bytes.length]) {
      // Stale bytes after `end` (as in a reused read buffer) must not be read as the line's end.
      const buf = Buffer.concat([rest, bytes.subarray(from, cut), Buffer.from('\n01 \n')]);
      const end = rest.length + cut - from;
      const used = counter.add(buf, 0, end, cut === bytes.length);
      rest = Buffer.from(buf.subarray(used, end));
      from = cut;
    }
    expect(rest.length).toBe(0);
    return counter.result();
  };

  it.each(TABLES)('counts %s given a piece at a time as countTcpStatesInBytes counts it whole', (_name, text) => {
    const bytes = Buffer.from(text, 'utf8');
    for (const size of [1, 7, 150, 4050]) {
      const cuts = Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => i * size);
      expect(inPieces(bytes, cuts)).toEqual(countTcpStatesInBytes(bytes));
    }
  });

  it(
    'agrees on random edits and random cuts',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...TABLES.map(([, t]) => Buffer.from(t))),
          fc.nat(),
          fc.uint8Array({ minLength: 0, maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (table, at, extra, cuts) => {
            const cut = at % (table.length + 1);
            const bytes = Buffer.concat([table.subarray(0, cut), extra, table.subarray(cut)]);
            expect(inPieces(bytes, cuts)).toEqual(countTcpStatesInBytes(bytes));
          },
        ),
        { numRuns: fuzzRuns(300) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
