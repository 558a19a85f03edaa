// Command-line parsing (commander) into a typed, validated options object. No I/O besides the
// help/version/error text commander writes through the injected writers.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export interface CliOptions {
  readonly once: boolean;
  readonly json: boolean;
  readonly summary: boolean;
  readonly filter: string | null;
  readonly processes: boolean;
  readonly procRoot: string | undefined;
  readonly intervalMs: number;
  readonly color: boolean;
}

export type ParseOutcome =
  | { readonly kind: 'run'; readonly options: CliOptions }
  /** Help or version was printed: exit with this code. */
  | { readonly kind: 'exit'; readonly code: number };

export const MIN_INTERVAL_S = 0.1;
export const MAX_INTERVAL_S = 3600;

function parseInterval(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(seconds) || seconds < MIN_INTERVAL_S || seconds > MAX_INTERVAL_S) {
    throw new InvalidArgumentError(`expected seconds between ${MIN_INTERVAL_S} and ${MAX_INTERVAL_S}, e.g. 1 or 0.5`);
  }
  return Math.round(seconds * 1000);
}

export function buildProgram(version: string, write: { out: (s: string) => void; err: (s: string) => void }): Command {
  const program = new Command();
  program
    .name('sockscope')
    .description('top for sockets: every socket and TCP connection state, live, from /proc/net')
    .version(version, '-V, --version')
    .option('-1, --once', 'print one snapshot as a table and exit')
    .option('-j, --json', 'print JSON: one document with --once, else one line per interval')
    .option('-s, --summary', 'print only counts per protocol and state (per interval without --once)')
    .option('-f, --filter <expr>', "show only sockets matching EXPR, e.g. 'port 5432', 'state close-wait and proc nginx'")
    .option('-n, --no-processes', 'do not map sockets to processes (faster)')
    .addOption(new Option('--proc-root <dir>', 'read /proc from DIR (recorded trees); default $PROC_ROOT or /proc'))
    .option('-i, --interval <seconds>', 'dashboard refresh interval in seconds', parseInterval, 1000)
    .option('--no-color', 'monochrome dashboard (also when NO_COLOR is set)')
    .addHelpText(
      'after',
      `
Filter language (same in --filter and the dashboard's "/" prompt):
  port N | sport N | dport N | :N | N        either end, local, remote port
  sport = :443   dport != :22   sport > 1024 ss-style comparisons
  state NAME   established, time-wait, close-wait, listen, syn-recv, connected, …
  host ADDR|CIDR | src … | dst …             either end, local, remote address
  proc NAME|PID | user NAME|UID | proto tcp|udp|unix|tcp6|udp6
  combine with and, or, not, ( )             e.g. 'dport 443 and not host 10.0.0.0/8'

Examples:
  sockscope                       live dashboard
  sockscope --once -f 'port 5432' who talks to PostgreSQL
  sockscope --once --summary      counts per state
  sockscope --once --json | jq '.counts.tcp'
  sockscope --json -i 5 >> sockets.ndjson    one JSON line every 5 s`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: write.out,
      writeErr: write.err,
      outputError: (text, w) => w(text),
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  return program;
}

/** Parse argv (without node and script). Errors become one-line messages through write.err. */
export function parseCli(
  argv: readonly string[],
  version: string,
  write: { out: (s: string) => void; err: (s: string) => void },
): ParseOutcome {
  const program = buildProgram(version, write);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const helpOrVersion = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return { kind: 'exit', code: helpOrVersion ? 0 : 2 };
    }
    throw err;
  }
  const o = program.opts<{
    once?: boolean;
    json?: boolean;
    summary?: boolean;
    filter?: string;
    processes: boolean;
    procRoot?: string;
    interval: number;
    color: boolean;
  }>();
  return {
    kind: 'run',
    options: {
      once: o.once === true,
      json: o.json === true,
      summary: o.summary === true,
      filter: o.filter ?? null,
      processes: o.processes,
      procRoot: o.procRoot,
      intervalMs: o.interval,
      color: o.color,
    },
  };
}
