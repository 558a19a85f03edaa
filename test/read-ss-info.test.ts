import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { createConnRatesSource } from '../src/proc/collect-conn-rates.js';
import {
  DEFAULT_SS_OPTIONS,
  readSsTcpInfo,
  runCommand,
  ssCommand,
  ssPortFilterArgs,
  ssUnavailableReason,
  type RunCommand,
} from '../src/proc/read-ss-info.js';
import { rec, snap } from './helpers/records.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/ss-output/${name}`, import.meta.url), 'utf8');

describe('runCommand (no shell, capped, timed out)', () => {
  it('stops a command at the byte cap and keeps only whole lines', async () => {
    const r = await runCommand('yes', ['0123456789'], { timeoutMs: 10_000, maxBytes: 1000 });
    if (!r.ok) throw new Error(r.message);
    expect(r.output.truncated).toBe(true);
    expect(r.output.stdout.length).toBeLessThanOrEqual(1000);
    expect(r.output.stdout.length).toBe(Math.floor(1000 / 11) * 11);
    expect(r.output.stdout.endsWith('0123456789\n')).toBe(true);
  });

  it('kills a command that outlives its timeout', async () => {
    const r = await runCommand('sleep', ['30'], { timeoutMs: 200, maxBytes: 1000 });
    expect(r).toEqual({ ok: false, message: 'sleep took longer than 200 ms' });
  });

  it('a missing program, a failing one with its first stderr line', async () => {
    expect(await runCommand('sockscope-no-such-program', [], { timeoutMs: 5000, maxBytes: 1000 })).toEqual({
      ok: false,
      message: 'sockscope-no-such-program is not installed',
    });
    const r = await runCommand('ls', ['/sockscope-no-such-dir'], { timeoutMs: 5000, maxBytes: 1000 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^ls exited with 2: .*sockscope-no-such-dir/);
  });

  it('passes arguments as they are: no shell expansion', async () => {
    const r = await runCommand('echo', ['$HOME', '*', ';', 'x'], { timeoutMs: 5000, maxBytes: 1000 });
    expect(r.ok && r.output.stdout).toBe('$HOME * ; x\n');
  });
});

describe('runCommand with onStdout (streamed)', () => {
  const streamed = async (
    file: string,
    args: string[],
    maxBytes: number,
  ): Promise<{ r: Awaited<ReturnType<RunCommand>>; text: string; backings: Set<ArrayBufferLike> }> => {
    const parts: string[] = [];
    const backings = new Set<ArrayBufferLike>();
    const r = await runCommand(file, args, {
      timeoutMs: 20_000,
      maxBytes,
      onStdout: (chunk) => {
        // Taken at once: the chunk's memory is read into again.
        parts.push(chunk.toString('latin1'));
        backings.add(chunk.buffer);
      },
    });
    return { r, text: parts.join(''), backings };
  };

  it('hands over every byte, in order, each chunk read into the same buffer (no allocation per read)', async () => {
    const whole = await runCommand('seq', ['1', '300000'], { timeoutMs: 20_000, maxBytes: 1 << 24 });
    if (!whole.ok) throw new Error(whole.message);
    const { r, text, backings } = await streamed('seq', ['1', '300000'], 1 << 24);
    expect(r).toEqual({ ok: true, output: { stdout: '', truncated: false, streamed: true } });
    expect(text.length).toBeGreaterThan(1_000_000);
    expect(text).toBe(whole.output.stdout);
    expect(backings.size).toBe(1);
  });

  it('stops at the byte cap, and reports a failing or missing command', async () => {
    const { r, text } = await streamed('yes', ['0123456789'], 100_000);
    expect(r).toEqual({ ok: true, output: { stdout: '', truncated: true, streamed: true } });
    expect(text.length).toBe(100_000);
    expect(text.startsWith('0123456789\n0123456789\n')).toBe(true);
    const failed = await streamed('ls', ['/sockscope-no-such-dir'], 1000);
    expect(failed.r.ok).toBe(false);
    if (!failed.r.ok) expect(failed.r.message).toMatch(/^ls exited with 2: .*sockscope-no-such-dir/);
    expect((await streamed('sockscope-no-such-program', [], 1000)).r).toEqual({
      ok: false,
      message: 'sockscope-no-such-program is not installed',
    });
  });

  it('waits for output written after the command exited (a child that outlives it holds the output open)', async () => {
    const { r, text } = await streamed('sh', ['-c', '(sleep 0.3; echo late) & echo early'], 1000);
    expect(r.ok).toBe(true);
    expect(text).toBe('early\nlate\n');
  });
});

describe('ss command lines', () => {
  it('plain ss, or nsenter into a pid namespace', () => {
    expect(ssCommand(['-tinH'], null)).toEqual(['ss', ['-tinH']]);
    expect(ssCommand(['-tinH'], 4242)).toEqual(['nsenter', ['--net=/proc/4242/ns/net', '--', 'ss', '-tinH']]);
    expect(() => ssCommand(['-tinH'], -1)).toThrow(RangeError);
  });

  it('port filter arguments', () => {
    expect(ssPortFilterArgs([])).toEqual([]);
    expect(ssPortFilterArgs([443, 80, 80, 70000])).toEqual([
      '(',
      'sport',
      '=',
      ':80',
      'or',
      'dport',
      '=',
      ':80',
      'or',
      'sport',
      '=',
      ':443',
      'or',
      'dport',
      '=',
      ':443',
      ')',
    ]);
  });

  it('says why rates are unavailable', () => {
    expect(ssUnavailableReason({ procRoot: '/proc', remote: false, uid: 0, netnsPid: 7 })).toBeNull();
    expect(ssUnavailableReason({ procRoot: '/proc', remote: false, uid: 1000, netnsPid: null })).toBeNull();
    expect(ssUnavailableReason({ procRoot: '/proc', remote: false, uid: 1000, netnsPid: 7 })).toMatch(/need root/);
    expect(ssUnavailableReason({ procRoot: '/tmp/rec', remote: false, uid: 0, netnsPid: null })).toMatch(/not from \/tmp\/rec/);
    expect(ssUnavailableReason({ procRoot: '/proc', remote: true, uid: 0, netnsPid: null })).toMatch(/ssh/);
  });
});

describe('readSsTcpInfo and the rates source over replayed output', () => {
  /** A run() that answers with the given outputs in turn and records the calls. */
  function replay(outputs: string[]): { run: RunCommand; calls: string[][] } {
    const calls: string[][] = [];
    const run: RunCommand = async (file, args) => {
      calls.push([file, ...args]);
      const out = outputs.shift();
      return out === undefined ? { ok: false, message: 'ss exited with 1' } : { ok: true, output: { stdout: out, truncated: false } };
    };
    return { run, calls };
  }

  it('parses what ss printed', async () => {
    const { run, calls } = replay([fixture('tin-loopback.txt')]);
    const r = await readSsTcpInfo({ run, now: () => 5000, monotonicMs: () => 0 }, DEFAULT_SS_OPTIONS);
    expect(calls).toEqual([['ss', '-tinH']]);
    expect(r.ok && r.value.table.count).toBe(7);
    expect(r.ok && r.value.takenAtMs).toBe(5000);
  });

  it('reads when due, else hands back the last rates; spaced out when a read is expensive', async () => {
    const line = (acked: number) => `ESTAB 0 0 127.0.0.1:40000 127.0.0.1:80\n\t cubic rtt:1/0.5 bytes_acked:${acked}\n`;
    const { run, calls } = replay([line(1000), line(3000), line(9000), line(9001)]);
    let wall = 0;
    let mono = 0;
    const sock = rec({ localPort: 40000, remotePort: 80 });
    // ss's CPU (the children's user + system time), as /proc/self/stat would count it.
    let childCpuMs = 0;
    const source = createConnRatesSource({ run, now: () => wall, monotonicMs: () => mono }, DEFAULT_SS_OPTIONS, {
      intervalMs: 1000,
      budgetFraction: 0.1,
      childrenCpuMs: () => childCpuMs,
    });
    const s1 = await source.refresh(snap(0, [sock]));
    expect(s1.ok && s1.rates.rates.get(sock.key)?.sendBytesPerSec).toBeNull();
    wall = mono = 1000;
    const s2 = await source.refresh(snap(1000, [sock]));
    expect(s2.ok && s2.rates.rates.get(sock.key)?.sendBytesPerSec).toBe(2000);
    // Not due yet (500 ms later): same rates, no ss call.
    wall = mono = 1500;
    expect(await source.refresh(snap(1500, [sock]))).toBe(s2);
    expect(calls).toHaveLength(2);
    // A read whose ss took 600 ms of CPU (and 900 ms of wall time): the next is due 6 s later,
    // by CPU, not by wall time (9 s).
    wall = 3000;
    mono = 3000;
    const slowRun: RunCommand = async (f, a, l) => {
      mono += 900;
      childCpuMs += 600;
      return run(f, a, l);
    };
    const slow = createConnRatesSource({ run: slowRun, now: () => wall, monotonicMs: () => mono }, DEFAULT_SS_OPTIONS, {
      intervalMs: 1000,
      budgetFraction: 0.1,
      childrenCpuMs: () => childCpuMs,
    });
    await slow.refresh(snap(3000, [sock]));
    mono = 5000;
    const again = await slow.refresh(snap(5000, [sock]));
    expect(calls).toHaveLength(3);
    expect(again.ok && again.rates.asOfMs).toBe(3000);
    mono = 8900;
    await slow.refresh(snap(8900, [sock]));
    expect(calls).toHaveLength(3);
    mono = 9100;
    wall = 9100;
    const due = await slow.refresh(snap(9100, [sock]));
    expect(calls).toHaveLength(4);
    expect(due.ok && due.cpuMs).toBe(600);
  });

  it('the join runs in slices: the thread is given back between them, the rates are whole', async () => {
    const sockets = Array.from({ length: 9000 }, (_, i) => rec({ localPort: 20000 + i, remotePort: 80 }));
    const text = (k: number) =>
      sockets.map((s) => `ESTAB 0 0 127.0.0.1:${s.localPort} 127.0.0.1:80\n\t cubic rtt:1/1 bytes_acked:${1 + k * s.localPort}\n`).join('');
    const { run } = replay([text(0), text(1)]);
    // Every clock reading is 4 ms later: each step of the join outlasts a 10 ms slice now and then.
    let mono = 0;
    let wall = 0;
    let pauses = 0;
    const source = createConnRatesSource({ run, now: () => wall, monotonicMs: () => (mono += 4) }, DEFAULT_SS_OPTIONS, {
      intervalMs: 1000,
      budgetFraction: 1,
      childrenCpuMs: () => 0,
      pause: () => {
        pauses++;
        return Promise.resolve();
      },
    });
    await source.refresh(snap(0, sockets), null, true);
    const pausesFirst = pauses;
    expect(pausesFirst).toBeGreaterThan(0);
    wall = 1000;
    const second = await source.refresh(snap(1000, sockets), null, true);
    expect(pauses).toBeGreaterThan(pausesFirst);
    expect(second.ok && second.rates.rates.size).toBe(9000);
    expect(second.ok && sockets.every((s) => second.rates.rates.get(s.key)?.sendBytesPerSec === s.localPort)).toBe(true);
  });

  it('a failed ss is reported, not thrown', async () => {
    const { run } = replay([]);
    const source = createConnRatesSource({ run, now: () => 0, monotonicMs: () => 0 }, DEFAULT_SS_OPTIONS, {
      intervalMs: 1000,
      budgetFraction: 0.1,
    });
    expect(await source.refresh(snap(0, []))).toEqual({ ok: false, message: 'ss exited with 1' });
  });
});
