// The history ring: samples oldest first, bounded. (The chart's time slots are tested in
// history-chart.test.ts.)

import { describe, expect, it } from 'vitest';
import { StateHistory } from '../src/model/state-history.js';

const push = (h: StateHistory, values: number[]): void => {
  for (const v of values) h.push({ atMs: 0, counts: { ESTABLISHED: v } });
};

describe('StateHistory', () => {
  it('keeps the last `capacity` samples', () => {
    const h = new StateHistory(3);
    push(h, [1, 2, 3, 4, 5]);
    expect(h.length).toBe(3);
    expect(h.series('ESTABLISHED', 10)).toEqual([3, 4, 5]);
    expect(h.series('TIME_WAIT', 2)).toEqual([0, 0]);
  });
});
