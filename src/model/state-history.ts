// Count per TCP state over the last minutes: a fixed-size ring of samples, one per snapshot.

import type { TcpState } from './types.js';

export interface HistorySample {
  readonly atMs: number;
  readonly counts: Readonly<Partial<Record<TcpState, number>>>;
}

export class StateHistory {
  private readonly samples: HistorySample[] = [];
  /** Samples pushed since the start (the ring keeps only the last `capacity`). */
  private pushed = 0;

  constructor(readonly capacity = 600) {}

  push(sample: HistorySample): void {
    this.pushed++;
    this.samples.push(sample);
    if (this.samples.length > this.capacity) this.samples.splice(0, this.samples.length - this.capacity);
  }

  /** Oldest first. */
  all(): readonly HistorySample[] {
    return this.samples;
  }

  /** The last `n` values of one state (0 where absent), oldest first. */
  series(state: TcpState, n: number): number[] {
    const from = Math.max(0, this.samples.length - n);
    const out: number[] = [];
    for (let i = from; i < this.samples.length; i++) out.push(this.samples[i]?.counts[state] ?? 0);
    return out;
  }


  /**
   * The largest count of `state` in each of the last `buckets` groups of `size` samples. Groups
   * are aligned on the absolute sample number, so a finished group never changes and a chart of
   * them only moves every `size` samples (a terminal over SSH pays for every redrawn cell).
   * Oldest first; the last group may be partial; groups before the first sample read 0.
   */
  bucketMax(state: TcpState, buckets: number, size: number): number[] {
    const out = new Array<number>(buckets).fill(0);
    const firstIndex = this.pushed - this.samples.length;
    const lastBucket = Math.floor((this.pushed - 1) / size);
    for (let i = 0; i < this.samples.length; i++) {
      const slot = buckets - 1 - (lastBucket - Math.floor((firstIndex + i) / size));
      if (slot < 0) continue;
      const v = this.samples[i]?.counts[state] ?? 0;
      if (v > (out[slot] ?? 0)) out[slot] = v;
    }
    return out;
  }

  get length(): number {
    return this.samples.length;
  }
}
