// `sockscope serve` exports bytes/s per listening port and per process: a paced loopback stream
// of known rate in a child process, scraped until the rates (deltas between scrapes) appear.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRateMetricFamilies } from '../src/model/rate-metrics.js';
import { renderFamily } from '../src/model/metrics.js';
import { parseExposition, sampleValue } from './helpers/prometheus-text.js';
import { hasSs, startPacedStream } from './helpers/paced-stream.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.join(here, '..', 'bin', 'sockscope');
const built = fs.existsSync(path.join(here, '..', 'dist', 'src', 'main.js'));
const group = (key: string, send: number, recv: number, pid: number | null = null, proc: string | null = null) => ({
  key,
  label: key,
  connections: 1,
  withRate: 1,
  sendBytesPerSec: send,
  recvBytesPerSec: recv,
  retransPerSec: 0,
  rttMedianMs: null,
  rttWorstMs: null,
  pid,
  process: proc,
});

describe('buildRateMetricFamilies', () => {
  it('valid exposition; the busiest groups up to the limit; no series for unknown owners', () => {
    const families = buildRateMetricFamilies({
      byPort: [group('80', 10, 10), group('5432', 500, 900), group('22', 1, 1)],
      byProcess: [group('7', 100, 200, 7, 'ngi"nx'), group('-', 1e9, 1e9)],
      total: { connections: 4, withRate: 4, sendBytesPerSec: 611, recvBytesPerSec: 1111, retransPerSec: 0.5 },
      asOfMs: 5000,
      maxGroups: 2,
    });
    const parsed = parseExposition(`${families.map(renderFamily).join('\n')}\n`);
    expect(sampleValue(parsed, 'sockscope_port_receive_bytes_per_second', { port: '5432' })).toBe(900);
    expect(sampleValue(parsed, 'sockscope_port_send_bytes_per_second', { port: '80' })).toBe(10);
    expect(sampleValue(parsed, 'sockscope_port_send_bytes_per_second', { port: '22' })).toBeUndefined();
    expect(sampleValue(parsed, 'sockscope_process_receive_bytes_per_second', { pid: '7', process: 'ngi"nx' })).toBe(200);
    expect(parsed.find((f) => f.name === 'sockscope_process_send_bytes_per_second')?.samples).toHaveLength(1);
    expect(sampleValue(parsed, 'sockscope_tcp_retransmits_per_second')).toBe(0.5);
    expect(sampleValue(parsed, 'sockscope_rates_timestamp_seconds')).toBe(5);
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

describe.skipIf(!built || !hasSs)('serve: bytes/s per port and per process (real binary)', { timeout: 120_000 }, () => {
  it('a paced 1 MB/s stream shows within 20% on its port and its process', async () => {
    const RATE = 1_000_000;
    const { child: stream, port: port } = await startPacedStream(RATE, 120000);
    children.push(stream);
    const serve = spawn(process.execPath, [bin, 'serve', '--listen', '127.0.0.1:0', '--interval', '0.5', '--filter', `port ${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(serve);
    const url = await new Promise<string>((resolve) => {
      let err = '';
      serve.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /serving metrics on (http:\/\/\S+)\/metrics\n/.exec(err);
        if (m !== null) resolve(m[1]!);
      });
    });
    // Rates are deltas between two reads of the counters: scrape until they appear (at most 20 times).
    let portIn: number | undefined;
    let families = parseExposition(await get(`${url}/metrics`));
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      families = parseExposition(await get(`${url}/metrics`));
      portIn = sampleValue(families, 'sockscope_port_receive_bytes_per_second', { port: String(port) });
      if (portIn !== undefined && portIn > 0) break;
    }
    expect(portIn).toBeGreaterThan(RATE * 0.8);
    expect(portIn).toBeLessThan(RATE * 1.2);
    const procOut = sampleValue(families, 'sockscope_process_send_bytes_per_second', { pid: String(stream.pid), process: 'node' });
    expect(procOut).toBeGreaterThan(RATE * 0.8);
    expect(procOut).toBeLessThan(RATE * 1.2);
    expect(sampleValue(families, 'sockscope_tcp_send_bytes_per_second')).toBeGreaterThan(RATE * 0.8);
  });
});
