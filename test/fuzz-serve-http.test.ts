// Fuzz: the HTTP endpoint of `serve` (the server runServe builds: createMetricsServer) with raw
// requests of random methods, targets, headers and Host values, some well-formed and some not.
// Every request gets 200, a 4xx (404, 405, 421 from sockscope; 400, 417, 431 from Node's parser)
// or 505 for a bad HTTP version — never a 500 and never a crash; metrics only for GET or HEAD on /metrics
// with a Host naming the server; and after all of it a plain scrape still works.
// Seed and runs: test/helpers/fuzz.ts.

import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createMetricsServer, type MetricsSource } from '../src/cli/serve.js';
import { FUZZ_TIMEOUT_MS, fuzzRuns } from './helpers/fuzz.js';

const BODY = '# HELP sockscope_fuzz a marker\nsockscope_fuzz 1\n';
/** 200, a 4xx (Node itself answers 400, 413, 417, 431 to what it will not parse), or 505. */
const allowed = (status: number): boolean => status === 200 || (status >= 400 && status < 500) || status === 505;

interface Reply {
  readonly status: number;
  readonly raw: string;
}

/** Write `head` on a fresh connection, read until the server closes (Connection: close, or its own error reply). */
function exchange(port: number, head: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(head));
    let raw = '';
    socket.setEncoding('latin1');
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(head.slice(0, 200))}`)));
    socket.on('data', (c: string) => (raw += c));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
    // An interim "100 Continue" (Expect: 100-continue) comes before the real answer.
    socket.on('close', () => {
      const final = raw.replace(/^(?:HTTP\/1\.1 100 Continue\r\n\r\n)+/, '');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3}) /.exec(final)?.[1] ?? 0), raw: final });
    });
  });
}

const token = fc.string({
  unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"),
  minLength: 1,
  maxLength: 12,
});
const method = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'get') },
  { weight: 1, arbitrary: token },
);
const pathChar = fc.constantFrom(..."/abcmetrics.%2F?#=&;:@!$'()*+,-_~0123456789".split(''), '//', '..', '%00', '%2e%2e', '\u00e9');
const target = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '/metrics',
      '/',
      '//metrics',
      '/metrics?x=1',
      '/metrics/',
      '/METRICS',
      '*',
      'http://localhost/metrics',
      'http://evil/metrics',
      '/metrics#frag',
      '/%6detrics',
      '/../metrics',
    ),
  },
  { weight: 3, arbitrary: fc.array(pathChar, { maxLength: 20 }).map((p) => `/${p.join('')}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 20 }) },
);
const version = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('HTTP/1.1', 'HTTP/1.0') },
  { weight: 1, arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.x', 'FOO', '') },
);
const headerValue = fc.string({
  unit: fc.constantFrom(...' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFXYZabcxyz[\\]^_`{|}~'.split('')),
  maxLength: 30,
});
const header = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constantFrom(
        'Accept',
        'User-Agent',
        'Connection',
        'Content-Length',
        'Transfer-Encoding',
        'Expect',
        'Cookie',
        'X-Forwarded-For',
        'Upgrade',
      ),
      headerValue,
    ),
  },
  { weight: 2, arbitrary: fc.tuple(token, headerValue) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.string({ unit: 'binary-ascii', maxLength: 10 }), fc.string({ unit: 'binary-ascii', maxLength: 20 })),
  },
);

describe('fuzz: serve HTTP endpoint', () => {
  const source: MetricsSource = { text: () => Promise.resolve(BODY) };
  const server = createMetricsServer(source, () => undefined);
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it(
    'random requests: an answer from the allowed set, metrics only where they belong, never a 500',
    async () => {
      const hostArb = fc.oneof(
        fc.constantFrom(
          `127.0.0.1:PORT`,
          `localhost:PORT`,
          `[::1]:PORT`,
          'evil.example',
          'evil.example:PORT',
          '127.0.0.1',
          'localhost:1',
          '',
        ),
        headerValue,
        fc.constant(null),
      );
      await fc.assert(
        fc.asyncProperty(
          method,
          target,
          version,
          hostArb,
          fc.array(header, { maxLength: 5 }),
          fc.option(fc.string({ maxLength: 40 })),
          async (m, t, v, host, headers, body) => {
            const hostLine = host === null ? '' : `Host: ${host.replace('PORT', String(port))}\r\n`;
            const extra = headers.map(([k, val]) => `${k}: ${val}\r\n`).join('');
            const head = `${m} ${t} ${v}\r\n${hostLine}${extra}Connection: close\r\n\r\n${body ?? ''}`;
            const reply = await exchange(port, head);
            // Node answers malformed requests itself (400, 431, 505) or closes without a word.
            if (reply.status === 0) {
              expect(reply.raw).toBe('');
              return;
            }
            expect(allowed(reply.status), `${reply.status} for ${JSON.stringify(head)}`).toBe(true);
            if (reply.status === 200 && reply.raw.includes('sockscope_fuzz')) {
              expect(['GET', 'HEAD']).toContain(m);
              // The server is on loopback: only a Host naming it (or none, not a browser) is served.
              const named = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
              expect(host === null || named.includes(host.replace('PORT', String(port)).toLowerCase()), `served to Host ${host}`).toBe(
                true,
              );
              expect(
                t === '/metrics' ||
                  t.startsWith('/metrics?') ||
                  t.startsWith('/metrics#') ||
                  t === 'http://localhost/metrics' ||
                  t === 'http://evil/metrics',
              ).toBe(true);
            }
          },
        ),
        { numRuns: fuzzRuns(150) },
      );
      const after = await exchange(port, `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
      expect(after.status).toBe(200);
      expect(after.raw).toContain('sockscope_fuzz 1');
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    'well-formed GET requests for random paths: 200 exactly for / and /metrics, 404 otherwise (never the index for //metrics)',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(pathChar, { maxLength: 12 }), async (chars) => {
          const p = `/${chars.join('')}`.replace(/[#?].*$/, '');
          const reply = await exchange(port, `GET ${p} HTTP/1.1\r\nHost: localhost:${port}\r\nConnection: close\r\n\r\n`);
          if (p === '/' || p === '/metrics') expect(reply.status).toBe(200);
          else if (reply.status !== 400) expect(reply.status, p).toBe(404);
          if (p !== '/') expect(reply.raw).not.toContain('<html');
        }),
        { numRuns: fuzzRuns(100) },
      );
    },
    FUZZ_TIMEOUT_MS,
  );
});
