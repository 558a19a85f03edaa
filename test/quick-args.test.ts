// parseQuickArgs (the common --once command lines without commander) against parseCli: on every
// command line of up to three words drawn from its vocabulary and from words next to it (other
// options, operands, bundled flags, values that start with "-"), it either gives parseCli's
// options exactly or leaves the line to parseCli.

import { describe, expect, it } from 'vitest';

import { parseCli } from '../src/cli/options.js';
import { parseQuickArgs } from '../src/cli/quick-args.js';

const silent = { out: () => undefined, err: () => undefined };

/** One "word" may be two argv entries (an option and its value). */
const WORDS: readonly (readonly string[])[] = [
  ['-1'],
  ['--once'],
  ['-j'],
  ['--json'],
  ['-s'],
  ['--summary'],
  ['-n'],
  ['--no-processes'],
  ['--proc-root', '/tmp/tree'],
  ['--proc-root=/tmp/other tree'],
  ['--proc-root', 'serve'],
  // Left to parseCli:
  ['--proc-root'],
  ['--proc-root='],
  ['--proc-root', '-n'],
  ['--processes'],
  ['-1s'],
  ['--filter', 'port 80'],
  ['-i', '2'],
  ['--help'],
  ['serve'],
  ['--'],
];

function* commandLines(maxWords: number): Generator<string[]> {
  yield [];
  const build = function* (prefix: string[], left: number): Generator<string[]> {
    if (left === 0) return;
    for (const w of WORDS) {
      const line = [...prefix, ...w];
      yield line;
      yield* build(line, left - 1);
    }
  };
  yield* build([], maxWords);
}

describe('parseQuickArgs', () => {
  it('gives what parseCli gives, or null, on every line of up to three words', () => {
    let quick = 0;
    let lines = 0;
    for (const argv of commandLines(3)) {
      lines++;
      const q = parseQuickArgs(argv);
      if (q === null) continue;
      quick++;
      expect(parseCli(argv, '0.0.0', silent), argv.join(' ')).toEqual({ kind: 'run', options: q });
    }
    // Both outcomes occur: the comparison covered real quick parses.
    expect(lines).toBeGreaterThan(9000);
    expect(quick).toBeGreaterThan(500);
    expect(quick).toBeLessThan(lines);
  });

  it('takes the lines scripts run most', () => {
    for (const argv of [['--once'], ['--once', '--summary'], ['-1', '-s', '--json'], ['--once', '-n', '--proc-root', '/x']]) {
      expect(parseQuickArgs(argv), argv.join(' ')).not.toBeNull();
    }
  });

  it('leaves to parseCli: no --once (the dashboard and streams), help, unknown words, values led by "-"', () => {
    for (const argv of [[], ['--summary'], ['--json'], ['--once', '--help'], ['--once', 'x'], ['--once', '--proc-root', '-n'], ['-1n']]) {
      expect(parseQuickArgs(argv), argv.join(' ')).toBeNull();
    }
  });
});
