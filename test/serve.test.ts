// `sockscope serve`: the real binary on 127.0.0.1:0 (it prints the bound address on stderr),
// scraped over HTTP. A listener and a connection opened by this test must show up in the
// metrics; the exposition must parse; other paths give 404; signals stop it with exit 0.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from './helpers/prometheus-text.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'sockscope');
const built = fs.existsSync(path.join(here, '..', 'dist', 'src', 'main.js'));
const onLinux = process.platform === 'linux';

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

/** Start `sockscope serve ARGS` and wait for "serving metrics on URL". */
function startServe(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}): ${err}`));
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving metrics on (http:\/\/\S+)\/metrics\n/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, url: m[1] ?? '', exit, stderr: () => err });
      }
    });
  });
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function request(url: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe.skipIf(!built || !onLinux)('sockscope serve (real binary)', () => {
  const server = net.createServer(() => undefined);
  let port = 0;
  let client: net.Socket | null = null;
  let served: Served;

  beforeAll(async () => {
    port = await listen(server);
    const accepted = new Promise<void>((resolve) => server.once('connection', () => resolve()));
    client = net.connect(port, '127.0.0.1');
    await accepted;
    // A huge --max-ports: this machine may have many busier listeners than the test's.
    served = await startServe(['--listen', '127.0.0.1:0', '--max-ports', '100000', '--interval', '0.1']);
  });

  afterAll(() => {
    served?.child.kill('SIGKILL');
    client?.destroy();
    server.close();
  });

  it('prints the address it bound (port 0 picks a free one)', () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(served.url).not.toMatch(/:0$/);
  });

  it('GET /metrics: valid exposition text with the listener and connection this test opened', async () => {
    const reply = await request(`${served.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(reply.body);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: String(port), state: 'LISTEN' })).toBe(1);
    expect(sampleValue(families, 'sockscope_port_sockets', { protocol: 'tcp', port: String(port), state: 'ESTABLISHED' })).toBe(1);
    expect(sampleValue(families, 'sockscope_listener_accept_queue', { address: '127.0.0.1', port: String(port) })).toBe(0);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'LISTEN' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'sockscope_sockets', { protocol: 'tcp', state: 'ESTABLISHED' })).toBeGreaterThanOrEqual(2);
    expect(sampleValue(families, 'sockscope_tcp_active_opens_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'sockscope_collect_seconds')).toBeGreaterThan(0);
    const taken = sampleValue(families, 'sockscope_scrape_timestamp_seconds') ?? 0;
    expect(Math.abs(taken - Date.now() / 1000)).toBeLessThan(120);
  });

  it('a closed listener is gone from the next scrape after --interval', async () => {
    const other = net.createServer();
    const otherPort = await listen(other);
    await new Promise((r) => setTimeout(r, 150));
    const before = parseExposition((await request(`${served.url}/metrics`)).body);
    expect(sampleValue(before, 'sockscope_port_sockets', { port: String(otherPort), state: 'LISTEN' })).toBe(1);
    await new Promise<void>((resolve) => other.close(() => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    const after = parseExposition((await request(`${served.url}/metrics`)).body);
    expect(sampleValue(after, 'sockscope_port_sockets', { port: String(otherPort), state: 'LISTEN' })).toBeUndefined();
  });

  it('GET / links to /metrics; other paths are 404; it is read-only', async () => {
    const index = await request(`${served.url}/`);
    expect(index.status).toBe(200);
    expect(index.body).toContain('href="/metrics"');
    expect((await request(`${served.url}/nope`)).status).toBe(404);
    expect((await request(`${served.url}/metrics/x`)).status).toBe(404);
    const post = await request(`${served.url}/metrics`, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
    const head = await request(`${served.url}/metrics`, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('query strings are ignored', async () => {
    expect((await request(`${served.url}/metrics?x=1`)).status).toBe(200);
  });
});

describe.skipIf(!built || !onLinux)('serve: starting and stopping', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops it cleanly with exit 0', async (signal) => {
    const s = await startServe(['--listen', '127.0.0.1:0']);
    expect((await request(`${s.url}/metrics`)).status).toBe(200);
    s.child.kill(signal);
    expect(await s.exit).toBe(0);
    expect(s.stderr()).toBe(`sockscope: serving metrics on ${s.url}/metrics\n`);
  });

  it.each([['127.0.0.1:99999'], ['127.0.0.1'], ['localhost:port'], ['[nothex]:80'], ['1.2.3.4:80:90']])(
    '--listen %j: one line, exit 2',
    (listenArg) => {
      const r = spawnSync(process.execPath, [bin, 'serve', '--listen', listenArg], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^sockscope: .*--listen/);
    },
  );

  it('a port in use: one line, exit 1', async () => {
    const busy = net.createServer();
    const busyPort = await listen(busy);
    try {
      const r = spawnSync(process.execPath, [bin, 'serve', '--listen', `127.0.0.1:${busyPort}`], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`sockscope: cannot listen on 127.0.0.1:${busyPort}: address already in use\n`);
    } finally {
      busy.close();
    }
  });

  it('serve does not take --once', () => {
    const r = spawnSync(process.execPath, [bin, 'serve', '--once'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('sockscope: serve does not take --once, --json or --summary\n');
  });
});
