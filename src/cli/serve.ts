// `sockscope serve`: a read-only HTTP endpoint with Prometheus metrics (GET /metrics), so a
// fleet of machines can be scraped. Collection happens on scrape, at most once per --interval:
// scrapes within that time (several Prometheus servers, a curl) get the cached text, and
// concurrent scrapes share one collection. Nothing is collected while nobody scrapes.

import http from 'node:http';
import { isIPv4, type AddressInfo } from 'node:net';
import { renderMetrics, type NetnsMetricsRow } from '../model/metrics.js';
import { safeText } from '../model/safe-text.js';
import { collectSnapshotAsync, type AsyncCollectDeps } from '../proc/collect-snapshot.js';
import { collectNetnsCounts } from '../proc/netns.js';
import { createInlineOwnerSource } from '../proc/owner-source.js';
import type { AppContext } from './context.js';
import type { ServeOptions } from './options.js';
import { renderFamily } from '../model/metrics.js';
import { portsOfShownConnections, sumRatesByLocalPort, sumRatesByProcess, totalRates } from '../model/conn-rates.js';
import { buildRateMetricFamilies } from '../model/rate-metrics.js';
import { createConnRatesSource } from '../proc/collect-conn-rates.js';
import { ssContext } from './run-once.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** "http://127.0.0.1:9464", "http://[::1]:9464". */
export function formatHttpAddress(address: AddressInfo | string | null): string {
  if (address === null) return 'http://?';
  if (typeof address === 'string') return address;
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>sockscope</title></head>
<body><h1>sockscope</h1><p>Sockets and TCP states from /proc/net as <a href="/metrics">Prometheus metrics</a>.</p></body></html>
`;

/** Produces the metrics text, collecting at most once per `minIntervalMs`. */
export interface MetricsSource {
  text(): Promise<string>;
}

export function createMetricsSource(ctx: AppContext, serve: ServeOptions, version: string): MetricsSource {
  const { services, options } = ctx;
  // Bytes/s per port and per process from ss (live kernel only): deltas between scrapes.
  const ss = ssContext(ctx);
  const rates =
    ss === null || ss.unavailable !== null
      ? null
      : createConnRatesSource(ss.deps, ss.options, { intervalMs: options.intervalMs, budgetFraction: 0.25 });
  // Owners are needed when the filter asks about processes or users, and for bytes/s per process.
  const scanner = ctx.filter !== null || rates !== null ? ctx.collectDeps.owners : null;
  const deps: AsyncCollectDeps = { ...ctx.collectDeps, owners: scanner === null ? null : createInlineOwnerSource(scanner) };
  let cached: { readonly text: string; readonly atMs: number } | null = null;
  let inflight: Promise<string> | null = null;

  const produce = async (): Promise<string> => {
    const t0 = services.monotonicMs();
    // --pid: when that process is gone, its /proc/PID/net goes with it; say so rather than serve zeros.
    if (options.pid !== null && ctx.procFs.readDir('net') === null) {
      throw new Error(`process ${options.pid} is gone: its network namespace cannot be read any more`);
    }
    const snapshot = await collectSnapshotAsync(deps);
    let namespaces: NetnsMetricsRow[] | null = null;
    if (options.allNetns) {
      namespaces = collectNetnsCounts(ctx.procFs).map((r) => ({ netns: r.netns.id, process: r.command, counts: r.counts }));
    }
    const sockets = ctx.filter === null ? snapshot.sockets : snapshot.sockets.filter(ctx.filter);
    // With a filter, ss is asked only for the ports of what it shows (cheap at 100k connections).
    const rateStatus = rates === null ? null : await rates.refresh(snapshot, ctx.filter === null ? null : portsOfShownConnections(sockets));
    const collectSeconds = (services.monotonicMs() - t0) / 1000;
    const text = renderMetrics({
      sockets,
      counters: snapshot.counters,
      takenAtMs: snapshot.takenAtMs,
      collectSeconds,
      maxPorts: serve.maxPorts,
      version,
      namespaces,
    });
    let rateText = '';
    if (rateStatus?.ok === true) {
      const r = rateStatus.rates.rates;
      const families = buildRateMetricFamilies({
        byPort: sumRatesByLocalPort(sockets, r),
        byProcess: sumRatesByProcess(sockets, r),
        total: totalRates(
          r,
          sockets.map((s) => s.key),
        ),
        asOfMs: rateStatus.rates.asOfMs,
        maxGroups: serve.maxPorts,
      });
      rateText = `${families.map(renderFamily).join('\n')}\n`;
    }
    cached = { text: text + rateText, atMs: t0 };
    return text + rateText;
  };

  return {
    text() {
      if (cached !== null && services.monotonicMs() - cached.atMs < options.intervalMs) return Promise.resolve(cached.text);
      inflight ??= produce().finally(() => {
        inflight = null;
      });
      return inflight;
    },
  };
}

/**
 * Limits of the HTTP server. Idle or slow connections cost a file descriptor each: without a cap,
 * 24,000 idle connections exhausted the process's file limit and real scrapes got empty replies.
 * A connection must send its request headers within headersTimeoutMs and the whole request within
 * requestTimeoutMs; an idle keep-alive connection is closed after keepAliveTimeoutMs; beyond
 * maxConnections new connections are closed at once. Node checks the timeouts every
 * connectionsCheckingIntervalMs.
 */
export const SERVE_LIMITS = {
  maxConnections: 256,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionsCheckingIntervalMs: 1_000,
} as const;

/** 127.0.0.0/8 (also v4-mapped), ::1 or "localhost". */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::1' || a === 'localhost') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * The Host header values a request may carry, for a server bound to `address`: on loopback,
 * localhost, 127.0.0.1, [::1] (and the bound address) with the port, and without it on port 80.
 * A browser page whose DNS name was rebound to 127.0.0.1 sends its own name as Host, so it is
 * refused. null when the server is not on loopback: then anyone who can reach the port may
 * read the metrics anyway (and names the server is scraped by cannot be known), so any Host goes.
 */
export function allowedHostsFor(address: AddressInfo): ReadonlySet<string> | null {
  if (!isLoopbackAddress(address.address)) return null;
  const bound = address.address.includes(':') ? `[${address.address.toLowerCase()}]` : address.address;
  const names = new Set(['localhost', '127.0.0.1', '[::1]', bound]);
  const hosts = new Set<string>();
  for (const n of names) {
    hosts.add(`${n}:${address.port}`);
    if (address.port === 80) hosts.add(n);
  }
  return hosts;
}

/**
 * The path of a request target: origin-form ("/metrics?x") up to "?" or "#", absolute-form
 * ("http://host/metrics") through URL; null for anything else ("*", garbage). "//metrics" stays
 * "//metrics" (a URL parser would read "metrics" as a host name and "/" as the path).
 */
export function requestPath(target: string): string | null {
  if (target.startsWith('/')) {
    const end = target.search(/[?#]/);
    return end < 0 ? target : target.slice(0, end);
  }
  if (/^https?:\/\//i.test(target)) {
    try {
      return new URL(target).pathname;
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Route one request. GET and HEAD only; /metrics, / and nothing else; on loopback, only requests
 * whose Host names this server (DNS rebinding). `allowedHosts` null: any Host.
 */
export async function handleMetricsRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  source: MetricsSource,
  allowedHosts: ReadonlySet<string> | null,
  onError: (message: string) => void,
): Promise<void> {
  const method = req.method ?? 'GET';
  const send = (status: number, type: string, body: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...extra });
    res.end(method === 'HEAD' ? undefined : body);
  };
  const host = req.headers.host;
  if (allowedHosts !== null && host !== undefined && !allowedHosts.has(host.toLowerCase())) {
    const example = [...allowedHosts][0] ?? 'localhost';
    send(
      421,
      'text/plain; charset=utf-8',
      `misdirected request: Host '${safeText(host, 100)}' does not name this server. It listens on loopback and answers ` +
        `only requests for localhost, 127.0.0.1 or [::1] with its port (e.g. http://${example}/metrics), so that a web page ` +
        `cannot read it through DNS rebinding.\n`,
    );
    return;
  }
  if (method !== 'GET' && method !== 'HEAD') {
    send(405, 'text/plain; charset=utf-8', 'method not allowed: this endpoint is read-only (GET /metrics)\n', { Allow: 'GET, HEAD' });
    return;
  }
  const path = requestPath(req.url ?? '/');
  if (path === null) {
    send(400, 'text/plain; charset=utf-8', 'bad request target: metrics are at /metrics\n');
    return;
  }
  if (path === '/') {
    send(200, 'text/html; charset=utf-8', INDEX_HTML);
    return;
  }
  if (path !== '/metrics') {
    send(404, 'text/plain; charset=utf-8', 'not found: metrics are at /metrics\n');
    return;
  }
  try {
    send(200, METRICS_CONTENT_TYPE, await source.text());
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    onError(message);
    send(500, 'text/plain; charset=utf-8', `collection failed: ${message}\n`);
  }
}

/**
 * The HTTP server of `serve`, with SERVE_LIMITS applied, answering through handleMetricsRequest.
 * The Host check follows the address it is bound to, once it listens.
 */
export function createMetricsServer(source: MetricsSource, onError: (message: string) => void): http.Server {
  let allowedHosts: ReadonlySet<string> | null | undefined;
  const server = http.createServer(
    {
      headersTimeout: SERVE_LIMITS.headersTimeoutMs,
      requestTimeout: SERVE_LIMITS.requestTimeoutMs,
      keepAliveTimeout: SERVE_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVE_LIMITS.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      if (allowedHosts === undefined) {
        const address = server.address();
        allowedHosts = address !== null && typeof address !== 'string' ? allowedHostsFor(address) : null;
      }
      handleMetricsRequest(req, res, source, allowedHosts, onError).catch(() => res.destroy());
    },
  );
  server.maxConnections = SERVE_LIMITS.maxConnections;
  return server;
}

/** The stderr warning for a server that is not on loopback, or null. */
export function exposureWarning(address: AddressInfo | string | null): string | null {
  if (address === null || typeof address === 'string' || isLoopbackAddress(address.address)) return null;
  return (
    `warning: ${formatHttpAddress(address)} is not a loopback address: the metrics (socket counts per state, ` +
    `listening ports and their accept queues, kernel TCP counters) are readable by anyone who can reach this port; ` +
    `restrict it with a firewall, or listen on 127.0.0.1 behind a proxy that authenticates`
  );
}

/** Plain words for the usual listen errors. */
function listenProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EADDRNOTAVAIL':
      return 'no such local address';
    case 'EACCES':
      return 'permission denied (ports below 1024 need root)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host name';
    default:
      return err.code ?? err.message;
  }
}

/**
 * Serve until SIGINT/SIGTERM (exit 0). Prints the bound address on stderr once listening
 * ("sockscope: serving metrics on http://127.0.0.1:9464/metrics"), so `--listen :0` users and
 * tests can find the port. A listen failure is one line and exit 1.
 */
export function runServe(ctx: AppContext, serve: ServeOptions, version: string): Promise<number> {
  const { services } = ctx;
  const source = createMetricsSource(ctx, serve, version);
  const complained = new Set<string>();
  const onError = (message: string): void => {
    if (!complained.has(message)) services.stderr.write(`sockscope: collection failed: ${message}\n`);
    complained.add(message);
  };
  const server = createMetricsServer(source, onError);
  return new Promise((resolve) => {
    const stop = (): void => {
      services.signals.off('SIGINT', stop);
      services.signals.off('SIGTERM', stop);
      server.close(() => resolve(0));
      server.closeAllConnections();
    };
    const onListenError = (err: NodeJS.ErrnoException): void => {
      services.signals.off('SIGINT', stop);
      services.signals.off('SIGTERM', stop);
      const where = `${serve.host.includes(':') ? `[${serve.host}]` : serve.host}:${serve.port}`;
      services.stderr.write(`sockscope: cannot listen on ${where}: ${listenProblem(err)}\n`);
      resolve(1);
    };
    server.once('error', onListenError);
    services.signals.on('SIGINT', stop);
    services.signals.on('SIGTERM', stop);
    const onListening = (): void => {
      server.off('error', onListenError);
      server.on('error', (err: NodeJS.ErrnoException) => services.stderr.write(`sockscope: server error: ${err.code ?? err.message}\n`));
      services.stderr.write(`sockscope: serving metrics on ${formatHttpAddress(server.address())}/metrics\n`);
      const warning = exposureWarning(server.address());
      if (warning !== null) services.stderr.write(`sockscope: ${warning}\n`);
    };
    if (serve.host === '') server.listen(serve.port, onListening);
    else server.listen(serve.port, serve.host, onListening);
  });
}
