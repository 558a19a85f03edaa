// --json / --summary streams into a reader that falls behind: sockscope waits for 'drain' and
// leaves intervals out rather than queueing them, then says how many it left out. Driven through
// main() over a recorded /proc tree, with stdout a stream that takes a few KB and then stalls
// until released, and fake setTimeout so that the number of intervals is exact. What is asserted
// is sizes (bytes queued in the stream) and counts (intervals reported skipped), never times.

import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/main.js';
import { formatSkippedJson, formatSkippedSummary } from '../src/cli/run-once.js';
import { REPO_ROOT } from './helpers/tmux.js';

const FIXTURE_DIR = path.join(REPO_ROOT, 'test/fixtures/proc-text/recorded');
const INTERVAL_MS = 100;

/**
 * A reader that takes `acceptBytes` and then stops taking anything until release(): chunks it
 * does not take stay queued in the Writable (writableLength), as in a pipe nobody reads.
 */
class StallingReader extends Writable {
  readonly taken: Buffer[] = [];
  takenBytes = 0;
  /** Largest writableLength seen after any write: what sockscope had queued at worst. */
  maxQueuedBytes = 0;
  private stalled: (() => void)[] = [];
  private released = false;

  constructor(
    private readonly acceptBytes: number,
    highWaterMark: number,
  ) {
    super({ highWaterMark, decodeStrings: true });
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const ok = (super.write as (...a: unknown[]) => boolean)(chunk, ...rest);
    this.maxQueuedBytes = Math.max(this.maxQueuedBytes, this.writableLength);
    return ok;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const take = (): void => {
      this.taken.push(chunk);
      this.takenBytes += chunk.length;
      cb();
    };
    if (this.released || this.takenBytes + chunk.length <= this.acceptBytes) take();
    else this.stalled.push(take);
  }

  release(): void {
    this.released = true;
    for (const take of this.stalled.splice(0)) take();
  }

  text(): string {
    return Buffer.concat(this.taken).toString('utf8');
  }
}

const sink = (): Writable & { text: string } => {
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer, _e, cb) {
        out.text += chunk.toString();
        cb();
      },
    }),
    { text: '' },
  );
  return out;
};

let procRoot = '';
beforeAll(() => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockscope-stream-'));
  procRoot = path.join(base, 'proc');
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  for (const f of fs.readdirSync(FIXTURE_DIR)) fs.copyFileSync(path.join(FIXTURE_DIR, f), path.join(procRoot, 'net', f));
  return () => fs.rmSync(base, { recursive: true, force: true });
});
// main() imports the option parser and the stream mode when it needs them: load them before the
// timers are faked, so the first document does not wait on module loading.
beforeAll(async () => {
  await Promise.all([import('../src/cli/options.js'), import('../src/cli/run-once.js'), import('../src/proc/collect-snapshot.js')]);
});

afterEach(() => {
  vi.useRealTimers();
});

/** Let pending I/O callbacks and promise continuations run (setImmediate is not faked). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

interface StreamRun {
  readonly reader: StallingReader;
  readonly stderr: string;
  readonly code: number;
  /** Bytes of the first document (one interval's output). */
  readonly firstDocumentBytes: number;
  /** writableLength at its largest while the reader was stalled. */
  readonly maxQueuedWhileStalledBytes: number;
}

/** Stream `args`; the reader stalls after acceptBytes for `stalledIntervals`, then reads on for 3. */
async function streamInto(args: readonly string[], reader: StallingReader, stalledIntervals: number): Promise<StreamRun> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  const signals = new EventEmitter();
  const stderr = sink();
  const done = main([...args, '-n', '--proc-root', procRoot, '-i', String(INTERVAL_MS / 1000)], {
    stdout: reader,
    stderr,
    signals: signals as unknown as NodeJS.Process,
    env: {},
    platform: 'linux',
  });
  // The first document is written at once (main's imports are real I/O: wait for them).
  for (let i = 0; i < 200 && reader.writableLength + reader.takenBytes === 0; i++) await settle();
  const firstDocumentBytes = reader.writableLength + reader.takenBytes;
  expect(firstDocumentBytes).toBeGreaterThan(0);
  for (let i = 0; i < stalledIntervals; i++) {
    vi.advanceTimersByTime(INTERVAL_MS);
    await settle();
  }
  const maxQueuedWhileStalledBytes = reader.maxQueuedBytes;
  reader.release();
  await settle();
  for (let i = 0; i < 3; i++) {
    vi.advanceTimersByTime(INTERVAL_MS);
    await settle();
  }
  signals.emit('SIGINT');
  const code = await done;
  return { reader, stderr: stderr.text, code, firstDocumentBytes, maxQueuedWhileStalledBytes };
}

describe('streams wait for a slow reader', () => {
  it('--json: at most one document beyond the buffer is queued; the intervals left out are reported as {"skipped":N}', async () => {
    const highWaterMark = 4 * 1024;
    // Takes 16 KB, less than the first document (~28 KB of fixture sockets), then stalls.
    const reader = new StallingReader(16 * 1024, highWaterMark);
    const run = await streamInto(['--json'], reader, 30);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.firstDocumentBytes).toBeGreaterThan(highWaterMark);
    // Unbounded, 30 intervals would have queued 30 documents; bounded: the buffer and one more.
    expect(run.maxQueuedWhileStalledBytes).toBeLessThanOrEqual(highWaterMark + run.firstDocumentBytes + 64);
    const lines = run.reader.text().trimEnd().split('\n');
    const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const markers = docs.filter((d) => 'skipped' in d);
    // One marker, right before the first document written after the reader caught up. The stall
    // began with the first document: every one of the 30 intervals after it was left out.
    expect(markers).toEqual([{ skipped: 30 }]);
    expect(lines).toContain(formatSkippedJson(30));
    const at = docs.findIndex((d) => 'skipped' in d);
    expect(docs[at + 1]).toHaveProperty('counts');
    expect(docs.filter((d) => 'counts' in d).length).toBeGreaterThanOrEqual(3);
    expect(docs.filter((d) => 'counts' in d).length).toBeLessThanOrEqual(6);
  });

  it('--summary: a "# skipped N intervals" comment line, unlike any counts line', async () => {
    const highWaterMark = 256;
    const reader = new StallingReader(1024, highWaterMark);
    const run = await streamInto(['--summary'], reader, 12);
    expect(run.code).toBe(0);
    expect(run.maxQueuedWhileStalledBytes).toBeLessThanOrEqual(highWaterMark + 2 * run.firstDocumentBytes + 64);
    const lines = run.reader.text().split('\n');
    const markers = lines.filter((l) => l.startsWith('#'));
    expect(markers).toHaveLength(1);
    const n = Number(/^# skipped (\d+) intervals?: the reader fell behind$/.exec(markers[0] ?? '')?.[1]);
    // The stall starts once ~1 KB is taken and the buffer holds 256 B: a few documents in.
    expect(n).toBeGreaterThanOrEqual(8);
    expect(n).toBeLessThanOrEqual(12);
    expect(markers[0]).toBe(formatSkippedSummary(n));
    // Every other non-empty line is a counts line: a group ("TCP   12") or a state ("  LISTEN  3").
    for (const l of lines.filter((x) => x !== '' && !x.startsWith('#'))) expect(l).toMatch(/^(?:[A-Z]+ +\d+| {2}\S+ +\d+)$/);
  });

  it('a reader that keeps up gets every interval and no marker', async () => {
    const reader = new StallingReader(Infinity, 4 * 1024);
    const run = await streamInto(['--json'], reader, 5);
    const docs = run.reader
      .text()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(docs.some((d) => 'skipped' in d)).toBe(false);
    expect(docs).toHaveLength(1 + 5 + 3);
  });
});
