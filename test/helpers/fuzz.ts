// Settings shared by the fuzz suites (test/fuzz-*.test.ts, fast-check). The seed is fixed so a
// run in CI is reproducible; SOCKSCOPE_FUZZ_SEED picks another, SOCKSCOPE_FUZZ_RUNS sets the
// number of cases of every property (each file's defaults keep `npm test` to a few seconds).
// A longer local run:  SOCKSCOPE_FUZZ_RUNS=20000 SOCKSCOPE_FUZZ_SEED=$RANDOM npx vitest run test/fuzz-
// A failure prints the seed and the counterexample path to replay it.

import fc from 'fast-check';

export const DEFAULT_FUZZ_SEED = 20261130;

function positiveInt(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** The seed of this run: SOCKSCOPE_FUZZ_SEED or the fixed default. */
export const FUZZ_SEED = (() => {
  const v = process.env['SOCKSCOPE_FUZZ_SEED'];
  if (v === undefined || v.trim() === '') return DEFAULT_FUZZ_SEED;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`SOCKSCOPE_FUZZ_SEED must be an integer, got '${v}'`);
  return n;
})();

const RUNS_OVERRIDE = positiveInt(process.env['SOCKSCOPE_FUZZ_RUNS']);

/** Cases for one property: SOCKSCOPE_FUZZ_RUNS when set, else this property's default. */
export function fuzzRuns(defaultRuns: number): number {
  return RUNS_OVERRIDE ?? defaultRuns;
}

/** Per-test timeout: vitest's default, or ten minutes when SOCKSCOPE_FUZZ_RUNS asks for a long run. */
export const FUZZ_TIMEOUT_MS = RUNS_OVERRIDE === null ? 30_000 : 600_000;

fc.configureGlobal({ seed: FUZZ_SEED, endOnFailure: true });

/** Characters /proc text, filters and HTTP heads are made of, plus the hostile ones. */
export const NASTY_CHARS = [
  '\x00',
  '\x07',
  '\x1b',
  '\x7f',
  '\x9b',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\n',
  '\r',
  '\t',
  ' ',
  ':',
  '.',
  '[',
  ']',
  '(',
  ')',
  '"',
  "'",
  '*',
  '-',
  '/',
  '%',
  '0',
  'F',
  'f',
];

/** One mutation of a text: replace, delete or insert a slice, or duplicate a line. */
export function mutatedText(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const piece = fc.oneof(fc.constantFrom(...NASTY_CHARS), fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 }));
  return fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 16 }), fc.integer({ min: 0, max: 3 }), piece), { minLength: 1, maxLength: 6 }))
    .map(([text, edits]) => {
      let out = text;
      for (const [at, len, kind, insert] of edits) {
        const i = out.length === 0 ? 0 : at % (out.length + 1);
        if (kind === 0) out = out.slice(0, i) + insert + out.slice(i + len);
        else if (kind === 1) out = out.slice(0, i) + out.slice(i + len);
        else if (kind === 2) out = out.slice(0, i) + insert + out.slice(i);
        else {
          const lines = out.split('\n');
          const l = i % Math.max(1, lines.length);
          lines.splice(l, 0, lines[l] ?? '');
          out = lines.join('\n');
        }
      }
      return out;
    });
}

/** Raw control, DEL, C1 and bidi/invisible format characters: none may reach a terminal. */
export const RAW_TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
