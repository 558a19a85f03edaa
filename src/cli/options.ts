// Command-line parsing (commander) into a typed, validated options object. No I/O besides the
// help/version/error text commander writes through the injected writers.

import { isIP } from 'node:net';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkSshOption, checkSshTarget } from '../proc/ssh/args.js';
import { DEFAULT_INTERVAL_MS } from './quick-args.js';

export interface CliOptions {
  readonly once: boolean;
  readonly json: boolean;
  readonly summary: boolean;
  readonly filter: string | null;
  readonly processes: boolean;
  readonly procRoot: string | undefined;
  readonly intervalMs: number;
  readonly color: boolean;
  /** --pid: read the network namespace of this process (/proc/PID/net), or null for our own. */
  readonly pid: number | null;
  /** --all-netns: per-namespace counts (with --once, or as metrics with serve). */
  readonly allNetns: boolean;
  /** The `serve` subcommand's settings, or null for the other modes. */
  readonly serve: ServeOptions | null;
  /** --record FILE: save the dashboard session's snapshots (deltas) to FILE. */
  readonly record: string | null;
  /** --force: with --record, replace FILE when it exists (else it is refused). */
  readonly force: boolean;
  /** `sockscope replay FILE`: play a recording in the dashboard instead of reading /proc. */
  readonly replay: string | null;
  /** --ssh [user@]host: read the remote host's /proc over the user's ssh, or null for this machine. */
  readonly ssh: string | null;
  /** --ssh-option KEY=VALUE (repeatable): extra `ssh -o` options, in order. */
  readonly sshOptions: readonly string[];
}

/** `sockscope serve`: a Prometheus metrics endpoint. */
export interface ServeOptions {
  /** Host to bind ("127.0.0.1", "::1", "localhost"); "" binds every address. */
  readonly host: string;
  readonly port: number;
  /** At most this many listening ports (and listeners) get per-port series. */
  readonly maxPorts: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:9464';
export const DEFAULT_MAX_PORTS = 50;

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

/** "ADDR:PORT", "[V6]:PORT" or ":PORT" (every address); port 0 picks a free one. */
export function parseListen(value: string): { host: string; port: number } {
  const text = value.trim();
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new InvalidArgumentError('expected ADDR:PORT, e.g. 127.0.0.1:9464, [::1]:9464 or :9464 for every address');
  }
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) throw new InvalidArgumentError(`${host} is not an IPv6 address`);
  return { host, port };
}

function parsePid(value: string): number {
  const pid = Number(value);
  if (!/^\d{1,10}$/.test(value.trim()) || !Number.isSafeInteger(pid) || pid < 1) {
    throw new InvalidArgumentError('expected a process id, e.g. 1234');
  }
  return pid;
}

function parseSshTarget(value: string): string {
  const problem = checkSshTarget(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return value;
}

function collectSshOption(value: string, previous: readonly string[] | undefined): string[] {
  const problem = checkSshOption(value);
  if (problem !== null) throw new InvalidArgumentError(problem);
  return [...(previous ?? []), value];
}

function parseMaxPorts(value: string): number {
  const n = Number(value);
  if (!/^\d{1,6}$/.test(value.trim()) || n > 100_000) throw new InvalidArgumentError('expected a number of ports between 0 and 100000');
  return n;
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
    .addOption(
      new Option('-i, --interval <seconds>', 'refresh interval in seconds').default(DEFAULT_INTERVAL_MS, '1').argParser(parseInterval),
    )
    .option('--no-color', 'monochrome dashboard (also when NO_COLOR is set)')
    .option('--record <file>', 'dashboard: also save the session to FILE (replay it with `sockscope replay FILE`)')
    .option('--force', 'with --record: replace FILE if it exists (never followed if a symlink)')
    .option('--pid <pid>', "show the network namespace of process PID (a container's), read from /proc/PID/net", parsePid)
    .option('--all-netns', 'with --once: sockets per state in every network namespace on the machine')
    .option(
      '--ssh <[user@]host>',
      "read a remote Linux host's sockets over your ssh (keys or agent: no prompts); nothing is installed there",
      parseSshTarget,
    )
    .option('--ssh-option <key=value>', 'extra ssh -o option for --ssh, repeatable, e.g. Port=2222', collectSshOption)
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
  sockscope --json -i 5 >> sockets.ndjson    one JSON line every 5 s
  sockscope --pid 1234 --once     sockets of the container that pid 1234 runs in
  sockscope --all-netns --once    counts per network namespace (containers)
  sockscope --ssh bob@db1         dashboard of db1's sockets, read over ssh
  sockscope serve                 Prometheus metrics on http://127.0.0.1:9464/metrics`,
    )
    .exitOverride()
    .configureOutput({
      writeOut: write.out,
      writeErr: write.err,
      outputError: (text, w) => w(text),
    })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  program
    .command('serve')
    .description('serve Prometheus metrics over HTTP (GET /metrics); collects on scrape, at most once per --interval')
    .addOption(
      new Option('--listen <addr:port>', 'address to listen on; port 0 picks a free port').default(DEFAULT_LISTEN).argParser(parseListen),
    )
    .option('--max-ports <n>', 'export per-port series for at most N listening ports', parseMaxPorts, DEFAULT_MAX_PORTS)
    .addHelpText(
      'after',
      `
Program options apply too: --interval (minimum seconds between two collections), --filter,
--pid (one container's namespace), --all-netns (add per-namespace counts), --proc-root.

Examples:
  sockscope serve                          http://127.0.0.1:9464/metrics
  sockscope serve --listen :9464 -i 15     every address, collect at most every 15 s`,
    )
    .action(() => undefined);
  program
    .command('replay')
    .description('play a recording made with --record in the dashboard: space pause, . , step, [ ] seek, + - speed')
    .argument('<file>', 'recording to play')
    .action(() => undefined);
  // Operands without a known subcommand: say so (the serve subcommand inherited "no excess").
  program.allowExcessArguments(true).action((_opts, cmd: Command) => {
    const word = cmd.args[0];
    if (word === undefined) return;
    const near = ['serve', 'replay'].find((c) => word.length >= 3 && (c.startsWith(word) || word.startsWith(c.slice(0, 4))));
    cmd.error(`error: unknown command '${word}'${near !== undefined ? ` (Did you mean ${near}?)` : ''}; options start with -, see --help`, {
      code: 'commander.unknownCommand',
    });
  });
  return program;
}

/** The serve subcommand's options that take a value. */
const SERVE_VALUE_OPTIONS = new Set(['--max-ports', '--listen']);

/**
 * `serve --max-ports -1`: commander lets the program see `-1` first, and it is `--once`'s short
 * flag, so serve got no value ("argument missing") and --once was set. A serve option followed by
 * a word starting with "-" is joined into `--max-ports=-1`, so serve's own parser judges the value
 * (a clear "argument '-1' is invalid" usage error). Stops at "--".
 */
export function joinDashValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] as string;
    if (word === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (SERVE_VALUE_OPTIONS.has(word) && next !== undefined && next.startsWith('-') && next !== '--') {
      out.push(`${word}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}

/** Parse argv (without node and script). Errors become one-line messages through write.err. */
export function parseCli(
  argv: readonly string[],
  version: string,
  write: { out: (s: string) => void; err: (s: string) => void },
): ParseOutcome {
  const program = buildProgram(version, write);
  try {
    program.parse(joinDashValues(argv), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      const helpOrVersion = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help';
      return { kind: 'exit', code: helpOrVersion ? 0 : 2 };
    }
    throw err;
  }
  const serveCommand = program.commands.find((c) => c.name() === 'serve');
  const serveUsed = serveCommand !== undefined && program.args[0] === 'serve';
  const o = program.opts<{
    once?: boolean;
    json?: boolean;
    summary?: boolean;
    filter?: string;
    processes: boolean;
    procRoot?: string;
    interval: number;
    color: boolean;
    pid?: number;
    allNetns?: boolean;
    record?: string;
    force?: boolean;
    ssh?: string;
    sshOption?: string[];
  }>();
  const replayCommand = program.commands.find((c) => c.name() === 'replay');
  const replay = replayCommand !== undefined && program.args[0] === 'replay' ? (replayCommand.args[0] ?? null) : null;
  const usage = (message: string): ParseOutcome => {
    write.err(`error: ${message}\n`);
    return { kind: 'exit', code: 2 };
  };
  let serve: ServeOptions | null = null;
  if (serveUsed) {
    if (o.once === true || o.json === true || o.summary === true) return usage('serve does not take --once, --json or --summary');
    const so = serveCommand.opts<{ listen: string | { host: string; port: number }; maxPorts: number }>();
    // commander does not run the parser on a default value: parse it here.
    const listen = typeof so.listen === 'string' ? parseListen(so.listen) : so.listen;
    serve = { host: listen.host, port: listen.port, maxPorts: so.maxPorts };
  }
  if (o.record !== undefined && (o.once === true || o.json === true || o.summary === true || serve !== null || replay !== null)) {
    return usage('--record saves a dashboard session: it does not go with --once, --json, --summary, serve or replay');
  }
  if (o.force === true && o.record === undefined) return usage('--force goes with --record (to replace an existing FILE)');
  if (replay !== null && (o.once === true || o.json === true || o.summary === true || o.allNetns === true || o.pid !== undefined)) {
    return usage('replay plays a recording in the dashboard: it does not take --once, --json, --summary, --pid or --all-netns');
  }
  if (
    o.ssh !== undefined &&
    (serve !== null || replay !== null || o.allNetns === true || o.pid !== undefined || o.procRoot !== undefined)
  ) {
    return usage('--ssh reads a remote host: it does not go with serve, replay, --all-netns, --pid or --proc-root');
  }
  if (o.ssh === undefined && o.sshOption !== undefined) return usage('--ssh-option needs --ssh');
  if (o.pid !== undefined && o.allNetns === true)
    return usage('--pid and --all-netns do not go together: --all-netns shows every namespace');
  if (o.allNetns === true && serve === null) {
    if (o.once !== true) return usage('--all-netns prints one table: add --once (or use serve --all-netns for metrics)');
    if (o.filter !== undefined || o.summary === true)
      return usage('--all-netns counts every socket: it does not take --filter or --summary');
  }
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
      pid: o.pid ?? null,
      allNetns: o.allNetns === true,
      serve,
      record: o.record ?? null,
      force: o.force === true,
      replay,
      ssh: o.ssh ?? null,
      sshOptions: o.sshOption ?? [],
    },
  };
}
