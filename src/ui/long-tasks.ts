// Opt-in (SOCKSCOPE_LONG_TASK_MS=40 with SOCKSCOPE_STATS_FILE): every block of the main thread
// longer than a threshold, with the dashboard stages that ran in it, written to the stats file
// (`longTasks`) for bench/README.md. A timer every 2 ms notes how long the thread was away since
// its last turn (a block delays it by its own length); the dashboard's stages (keys, frames, the
// slices of an ingest) record when they ran, and a block is named after those it overlaps. What no
// stage covers is named by `context` (a collection or an ss read under way: their own slices and
// joins, src/proc), or "other" (GC, blessed's output).

import type { SliceOptions } from '../model/slices.js';

/** One block of the main thread: when it ended (ms of the clock), how long, the stages in it with their ms. */
export interface LongTask {
  readonly atMs: number;
  readonly ms: number;
  readonly stages: string;
}

/** What the dashboard records its stages with (absent: nothing is recorded). */
export interface StageTrace {
  /** Runs `fn` as one stage named `label`. */
  run<T>(label: string, fn: () => T): T;
  /** Slices of a runInSlices recorded as stages named `label`; call `done` when it resolves. */
  slices(label: string, options: SliceOptions): { readonly options: SliceOptions; done(): void };
}

interface Span {
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
}

const TICK_MS = 2;
const SPANS_KEPT = 256;
const TASKS_KEPT = 300;

export class LongTaskLog implements StageTrace {
  private readonly spans: Span[] = [];
  readonly tasks: LongTask[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastTurnMs = 0;

  constructor(
    private readonly thresholdMs: number,
    private readonly clock: () => number,
    /** What was under way outside the stages (e.g. "collect"), or ''. */
    private readonly context: () => string,
  ) {}

  start(): void {
    this.lastTurnMs = this.clock();
    const turn = (): void => {
      const now = this.clock();
      if (now - this.lastTurnMs - TICK_MS > this.thresholdMs) this.note(this.lastTurnMs, now);
      this.lastTurnMs = now;
      this.timer = setTimeout(turn, TICK_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(turn, TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  run<T>(label: string, fn: () => T): T {
    const t0 = this.clock();
    try {
      return fn();
    } finally {
      this.record(label, t0, this.clock());
    }
  }

  slices(label: string, options: SliceOptions): { readonly options: SliceOptions; done(): void } {
    let t0 = this.clock();
    return {
      options: {
        sliceMs: options.sliceMs,
        clock: options.clock,
        pause: async () => {
          this.record(label, t0, this.clock());
          await options.pause();
          t0 = this.clock();
        },
      },
      done: () => this.record(label, t0, this.clock()),
    };
  }

  private record(label: string, startMs: number, endMs: number): void {
    if (endMs - startMs < 1) return;
    this.spans.push({ label, startMs, endMs });
    if (this.spans.length > SPANS_KEPT) this.spans.shift();
  }

  /** The thread was away from `fromMs` to `toMs`: name the block after the stages in it. */
  private note(fromMs: number, toMs: number): void {
    const byLabel = new Map<string, number>();
    let covered = 0;
    for (const s of this.spans) {
      const overlap = Math.min(s.endMs, toMs) - Math.max(s.startMs, fromMs);
      if (overlap <= 0) continue;
      byLabel.set(s.label, (byLabel.get(s.label) ?? 0) + overlap);
      covered += overlap;
    }
    const ms = toMs - fromMs;
    const rest = ms - covered;
    if (rest > Math.min(10, ms / 4)) {
      const context = this.context();
      byLabel.set(context === '' ? 'other' : context, rest);
    }
    const stages = [...byLabel]
      .sort((a, b) => b[1] - a[1])
      .map(([label, v]) => `${label} ${Math.round(v)}`)
      .join(', ');
    this.tasks.push({ atMs: Math.round(toMs), ms: Math.round(ms), stages });
    if (this.tasks.length > TASKS_KEPT) this.tasks.shift();
  }
}
