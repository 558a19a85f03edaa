// `serve` against the web and against idle connections: the Host check that blocks DNS rebinding
// on loopback, the warning when it listens elsewhere, request targets ("//metrics" is not the
// index page), and the connection cap and timeouts (SERVE_LIMITS) that keep idle connections
// from taking every file descriptor. The real binary for what a user sees; the server that
// runServe builds (createMetricsServer) in-process where connections are counted.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  SERVE_LIMITS,
  allowedHostsFor,
  createMetricsServer,
  exposureWarning,
  isLoopbackAddress,
  requestPath,
  type MetricsSource,
} from '../src/cli/serve.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, 'fixtures/proc-text/recorded');

/**
 * A recorded /proc (net/* from the fixtures) for the binary to serve: a scrape then reads a few
 * dozen lines instead of this machine's tables, so a busy machine does not slow every request.
 */
function recordedTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-serve-'));
  fs.mkdirSync(path.join(root, 'net'));
  for (const name of ['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'snmp', 'netstat'])
    fs.copyFileSync(path.join(FIXTURES, name), path.join(root, 'net', name));
  return root;
}
let tree = '';
beforeAll(() => {
  tree = recordedTree();
  return () => fs.rmSync(tree, { recursive: true, force: true });
});
const bin = path.join(here, '..', 'bin', 'sockscope');
const built = fs.existsSync(path.join(here, '..', 'dist', 'src', 'main.js'));

interface Served {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

function startServe(args: readonly string[]): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', '--proc-root', tree, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 20_000);
    void exit.then((code) => reject(new Error(`serve exited (${code}): ${err}`)));
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /serving metrics on http:\/\/\S+:(\d+)\/metrics\n/.exec(err);
      // Off loopback a warning line follows: wait for it too.
      const loopback = m !== null && /^http:\/\/(?:127\.|\[::1\])/.test(/serving metrics on (\S+)/.exec(err)?.[1] ?? '');
      if (m !== null && (loopback || /warning: .*\n/.test(err))) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exit, stderr: () => err });
      }
    });
  });
}

interface RawReply {
  readonly status: number;
  readonly body: string;
}

/** Send a raw HTTP request (exact target and headers, as a browser or an attacker would) and read the reply. */
function rawRequest(port: number, head: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(`${head}\r\n\r\n`));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (data += c));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
  });
}

const get = (port: number, target: string, host: string | null): Promise<RawReply> =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\n${host === null ? '' : `Host: ${host}\r\n`}Connection: close`);

describe('pure parts', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.9.8.7', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['::ffff:10.0.0.5', false],
    ['128.0.0.1', false],
  ])('isLoopbackAddress(%j) = %j', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });

  it('allowedHostsFor: loopback names with the port; no restriction off loopback', () => {
    expect([...(allowedHostsFor({ address: '127.0.0.1', family: 'IPv4', port: 9464 }) ?? [])].sort()).toEqual([
      '127.0.0.1:9464',
      '[::1]:9464',
      'localhost:9464',
    ]);
    expect([...(allowedHostsFor({ address: '::1', family: 'IPv6', port: 80 }) ?? [])].sort()).toEqual([
      '127.0.0.1',
      '127.0.0.1:80',
      '[::1]',
      '[::1]:80',
      'localhost',
      'localhost:80',
    ]);
    expect(allowedHostsFor({ address: '0.0.0.0', family: 'IPv4', port: 9464 })).toBeNull();
    expect(allowedHostsFor({ address: '::', family: 'IPv6', port: 9464 })).toBeNull();
  });

  it.each([
    ['/metrics', '/metrics'],
    ['/metrics?x=1#y', '/metrics'],
    ['//metrics', '//metrics'],
    ['///', '///'],
    ['http://h/metrics', '/metrics'],
    ['http://h//metrics', '//metrics'],
    ['*', null],
    ['metrics', null],
    ['', null],
  ])('requestPath(%j) = %j', (target, expected) => {
    expect(requestPath(target)).toBe(expected);
  });

  it('exposureWarning: only off loopback, saying who can read what', () => {
    expect(exposureWarning({ address: '127.0.0.1', family: 'IPv4', port: 1 })).toBeNull();
    expect(exposureWarning({ address: '0.0.0.0', family: 'IPv4', port: 9464 })).toMatch(
      /^warning: http:\/\/0\.0\.0\.0:9464 is not a loopback address: the metrics .* are readable by anyone who can reach this port/,
    );
  });
});

describe.skipIf(!built)('serve on loopback: the Host header must name this server', () => {
  let served: Served;
  beforeAll(async () => {
    served = await startServe(['--listen', '127.0.0.1:0']);
  });
  afterAll(() => {
    served?.child.kill('SIGKILL');
  });

  it('no warning on loopback', () => {
    expect(served.stderr()).toBe(`sockscope: serving metrics on http://127.0.0.1:${served.port}/metrics\n`);
  });

  it.each(['127.0.0.1:PORT', 'localhost:PORT', 'LOCALHOST:PORT', '[::1]:PORT'])('Host %s → 200', async (host) => {
    const r = await get(served.port, '/metrics', host.replace('PORT', String(served.port)));
    expect(r.status).toBe(200);
    expect(r.body).toContain('sockscope_sockets');
  });

  it.each(['evil.example:PORT', 'evil.example', '127.0.0.1', 'localhost:1', '127.0.0.1.nip.io:PORT', 'localhost.evil.example:PORT'])(
    'Host %s (a rebound name, another port) → 421 with a clear body, no metrics',
    async (host) => {
      const r = await get(served.port, '/metrics', host.replace('PORT', String(served.port)));
      expect(r.status).toBe(421);
      expect(r.body).toMatch(/^misdirected request: Host '.*' does not name this server\. .*DNS rebinding\.\n$/);
      expect(r.body).not.toContain('sockscope_sockets');
    },
  );

  it('the index page is refused to a foreign Host too', async () => {
    expect((await get(served.port, '/', 'evil.example')).status).toBe(421);
  });

  it('HTTP/1.0 without a Host header (not a browser) is answered', async () => {
    const r = await rawRequest(served.port, 'GET /metrics HTTP/1.0');
    expect(r.status).toBe(200);
  });

  it('//metrics is not the index page: 404; "*" is a bad target: 400', async () => {
    const host = `127.0.0.1:${served.port}`;
    const r = await get(served.port, '//metrics', host);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('<html');
    expect((await get(served.port, '//', host)).status).toBe(404);
    expect((await get(served.port, '/', host)).body).toContain('<html');
    expect((await get(served.port, '*', host)).status).toBe(400);
  });
});

describe.skipIf(!built)('serve off loopback: a warning on stderr, any Host', () => {
  it.each([['0.0.0.0:0'], [':0']])('--listen %s', async (listenArg) => {
    const served = await startServe(['--listen', listenArg]);
    try {
      const lines = served.stderr().trimEnd().split('\n');
      expect(lines[0]).toMatch(/^sockscope: serving metrics on http:\/\/\S+\/metrics$/);
      expect(lines[1]).toMatch(
        /^sockscope: warning: http:\/\/\S+ is not a loopback address: the metrics .* are readable by anyone who can reach this port/,
      );
      const r = await get(served.port, '/metrics', `db1.example:${served.port}`);
      expect(r.status).toBe(200);
    } finally {
      served.child.kill('SIGKILL');
    }
  });
});

describe('connection cap and timeouts (the server runServe builds)', () => {
  const source: MetricsSource = { text: () => Promise.resolve('# metrics\n') };
  const server = createMetricsServer(source, () => undefined);
  let port = 0;
  let drops = 0;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    server.on('drop', () => (drops += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('has the limits set', () => {
    expect(server.maxConnections).toBe(SERVE_LIMITS.maxConnections);
    expect(server.headersTimeout).toBe(SERVE_LIMITS.headersTimeoutMs);
    expect(server.requestTimeout).toBe(SERVE_LIMITS.requestTimeoutMs);
    expect(server.keepAliveTimeout).toBe(SERVE_LIMITS.keepAliveTimeoutMs);
  });

  it(`idle connections beyond ${SERVE_LIMITS.maxConnections} are dropped at once, the rest closed for sending no headers; then scrapes work`, async () => {
    const extra = 40;
    const total = SERVE_LIMITS.maxConnections + extra;
    let closed = 0;
    await Promise.all(
      Array.from(
        { length: total },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, '127.0.0.1', () => resolve());
            s.on('error', () => undefined);
            s.on('close', () => (closed += 1));
            s.resume();
            sockets.push(s);
          }),
      ),
    );
    // The ones over the cap: exactly `extra`, whatever the order they were accepted in.
    const deadline = Date.now() + 20_000;
    while (drops < extra && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(drops).toBe(extra);
    // Nobody sends a byte: the header timeout closes every other one (no timing asserted, only that it happens).
    while (closed < total && Date.now() < deadline + 20_000) await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(total);
    expect(drops).toBe(extra);
    const reply = await new Promise<number>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(reply).toBe(200);
  }, 60_000);
});
