// The command lines that scripts run most (`--once`, `--once --summary`, `--once --json`, with
// -n and --proc-root), recognised without commander: loading and building commander's program
// is ~20–40 ms of a `--once --summary` whose whole cost at 100k sockets is ~0.45 s. Anything
// else (help, version, other options, operands, bundled short flags, a value that starts with
// "-") is left to parseCli, so this gives the same options as parseCli or nothing (a test checks
// it against parseCli on every combination of these words).

import type { CliOptions } from './options.js';

/** Flags without a value, and what each sets. */
const FLAGS: Readonly<Record<string, 'once' | 'json' | 'summary' | 'noProcesses'>> = {
  '-1': 'once',
  '--once': 'once',
  '-j': 'json',
  '--json': 'json',
  '-s': 'summary',
  '--summary': 'summary',
  '-n': 'noProcesses',
  '--no-processes': 'noProcesses',
};

const PROC_ROOT = '--proc-root';

/** Refresh interval without -i, ms (also commander's default in options.ts). */
export const DEFAULT_INTERVAL_MS = 1000;

/** parseCli's options for a `--once` command line made only of the words above and --proc-root DIR, else null. */
export function parseQuickArgs(argv: readonly string[]): CliOptions | null {
  let once = false;
  let json = false;
  let summary = false;
  let processes = true;
  let procRoot: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const flag = FLAGS[word];
    if (flag === 'once') once = true;
    else if (flag === 'json') json = true;
    else if (flag === 'summary') summary = true;
    else if (flag === 'noProcesses') processes = false;
    else {
      let value: string | undefined;
      if (word === PROC_ROOT) value = argv[++i];
      else if (word.startsWith(`${PROC_ROOT}=`)) value = word.slice(PROC_ROOT.length + 1);
      else return null;
      // A missing, empty or dash-led value: commander's rules (and its messages) decide.
      if (value === undefined || value === '' || value.startsWith('-')) return null;
      procRoot = value;
    }
  }
  if (!once) return null;
  return {
    once,
    json,
    summary,
    filter: null,
    processes,
    procRoot,
    intervalMs: DEFAULT_INTERVAL_MS,
    color: true,
    pid: null,
    allNetns: false,
    serve: null,
    record: null,
    force: false,
    replay: null,
    ssh: null,
    sshOptions: [],
  };
}
