// countTcpStatesInBytes (the --summary count over the bytes of /proc/net/tcp, no text decoded)
// against countTcpStatesFast over the same content as text: the same counts and skipped lines on
// the recorded and hand-made tables, on lines with non-ASCII or invalid UTF-8 before, inside and
// after the state column, and on random edits of those tables. And collectStateCountsAsync (every
// table read at once) against collectStateCounts on the same tree.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { collectStateCounts, collectStateCountsAsync } from '../src/proc/collect-counts.js';
import { countTcpStatesFast, countTcpStatesInBytes } from '../src/proc/parse-inet.js';
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

describe('collectStateCountsAsync', () => {
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

  it('gives what collectStateCounts gives, in the same key order', async () => {
    const procFs = createProcFs(root);
    const sync = collectStateCounts(procFs);
    const async = await collectStateCountsAsync(procFs);
    expect(JSON.stringify(async)).toBe(JSON.stringify(sync));
    expect(Object.keys(sync.files)).toEqual(['net/tcp6']);
    expect(Object.keys(sync.unreadable)).toEqual(['net/raw6']);
  });

  it('a ProcFs without byte reads (a hand-made fake) counts the same from its text', async () => {
    const base = createProcFs(root);
    const textOnly: ProcFs = { ...base, readBytesResultAsync: undefined };
    expect(JSON.stringify(await collectStateCountsAsync(textOnly))).toBe(JSON.stringify(collectStateCounts(base)));
  });
});
