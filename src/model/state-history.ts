// Count per TCP state over the last minutes: a fixed-size ring of samples, one per snapshot.

import type { TcpState } from './types.js';

export interface HistorySample {
  readonly atMs: number;
  readonly counts: Readonly<Partial<Record<TcpState, number>>>;
}

export class StateHistory {
  private readonly samples: HistorySample[] = [];

  constructor(readonly capacity = 600) {}

  push(sample: HistorySample): void {
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

  get length(): number {
    return this.samples.length;
  }
}
