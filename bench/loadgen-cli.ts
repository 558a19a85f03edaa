// CLI for the loopback load generator:
//   node dist/bench/loadgen-cli.js --established 20000 --close-wait 1000 --time-wait 2000 [--churn 200] [--hold SECONDS]
// Prints one JSON line ({pids, ports, listeners, buildMs, ...}) on stdout when the
// population is ready, holds it until SIGINT/SIGTERM or --hold seconds, then cleans up.

import { parseArgs } from 'node:util';

import { startPopulation, type LoopbackHost, type PopulationSpec } from './loadgen.js';

const USAGE = `usage: loadgen-cli [options]
  --established N     ESTABLISHED connections (pairs: 2 sockets each)
  --close-wait N      CLOSE_WAIT sockets (server side of half-closed connections)
  --fin-wait2 N       FIN_WAIT2 sockets held (default: = --close-wait; must be <= it)
  --time-wait N       TIME_WAIT sockets (kept topped up as they expire after 60 s)
  --listen-ports N    minimum number of listeners for ESTABLISHED connections
  --churn N           connections opened and closed per second after the build
  --churn-close rst|fin  how churn connections close (default rst: no extra TIME_WAIT)
  --host 127.0.0.1|::1   loopback family (default 127.0.0.1)
  --addresses N       IPv4 loopback addresses 127.0.0.1..N to use (default 8)
  --workers N         worker processes (default: automatic, each under 16k sockets)
  --concurrency N     connection attempts in flight per worker (default 500)
  --hold SECONDS      stop after this long (default: until SIGINT/SIGTERM)
  --stats SECONDS     print a stats JSON line on stderr every SECONDS (default: off)
  --timeout SECONDS   give up if not ready after this long (default 120)
  -h, --help`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`--${name}: expected a non-negative number, got ${value}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      established: { type: 'string' },
      'close-wait': { type: 'string' },
      'fin-wait2': { type: 'string' },
      'time-wait': { type: 'string' },
      'listen-ports': { type: 'string' },
      churn: { type: 'string' },
      'churn-close': { type: 'string' },
      host: { type: 'string' },
      addresses: { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      hold: { type: 'string' },
      stats: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const host = values.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1') throw new RangeError(`--host: expected 127.0.0.1 or ::1, got ${host}`);
  const churnClose = values['churn-close'] ?? 'rst';
  if (churnClose !== 'rst' && churnClose !== 'fin') throw new RangeError(`--churn-close: expected rst or fin, got ${churnClose}`);
  const timeout = int('timeout', values.timeout);
  const optional = <K extends keyof PopulationSpec>(key: K, v: PopulationSpec[K] | undefined): Partial<PopulationSpec> =>
    v === undefined ? {} : ({ [key]: v } as Partial<PopulationSpec>);
  const spec: PopulationSpec = {
    established: int('established', values.established) ?? 0,
    closeWait: int('close-wait', values['close-wait']) ?? 0,
    timeWait: int('time-wait', values['time-wait']) ?? 0,
    host: host as LoopbackHost,
    churnClose,
    ...optional('finWait2', int('fin-wait2', values['fin-wait2'])),
    ...optional('listenPorts', int('listen-ports', values['listen-ports'])),
    ...optional('churnPerSec', int('churn', values.churn)),
    ...optional('addresses', int('addresses', values.addresses)),
    ...optional('workers', int('workers', values.workers)),
    ...optional('concurrency', int('concurrency', values.concurrency)),
    ...optional('timeoutMs', timeout === undefined ? undefined : timeout * 1000),
  };
  const holdSeconds = int('hold', values.hold);
  const statsSeconds = int('stats', values.stats);

  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    wake();
  };
  let wake: () => void = () => {};
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const population = await startPopulation(spec);
  const s = population.stats();
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      buildMs: Math.round(population.buildMs),
      pids: population.pids,
      ports: population.ports,
      addresses: population.addresses,
      listeners: population.listeners,
      totals: s.totals,
    })}\n`,
  );

  if (!interrupted) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (holdSeconds !== undefined) setTimeout(resolve, holdSeconds * 1000).unref();
      if (statsSeconds !== undefined && statsSeconds > 0) {
        setInterval(() => {
          const st = population?.stats();
          if (st) process.stderr.write(`${JSON.stringify({ uptimeMs: Math.round(st.uptimeMs), totals: st.totals })}\n`);
        }, statsSeconds * 1000).unref();
      }
      // Keep the process alive while holding (the IPC channels alone may not).
      setInterval(() => {}, 1 << 30);
    });
  }
  await population.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadgen-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
