// The history ring and its fixed groups: a finished group never changes, so the chart of them
// only moves every `size` samples.

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

  it('bucketMax: groups aligned on the absolute sample number, newest last, partial last group', () => {
    const h = new StateHistory(100);
    push(h, [1, 9, 2, 3, 4, 5, 6]); // groups of 3: [1 9 2] [3 4 5] [6]
    expect(h.bucketMax('ESTABLISHED', 4, 3)).toEqual([0, 9, 5, 6]);
    push(h, [0]); // [6 0]: the finished groups stay as they were
    expect(h.bucketMax('ESTABLISHED', 4, 3)).toEqual([0, 9, 5, 6]);
    push(h, [7]); // [6 0 7] completes
    expect(h.bucketMax('ESTABLISHED', 4, 3)).toEqual([0, 9, 5, 7]);
    push(h, [1]); // a new group starts: everything shifts once
    expect(h.bucketMax('ESTABLISHED', 4, 3)).toEqual([9, 5, 7, 1]);
  });

  it('bucketMax stays aligned after the ring drops old samples', () => {
    const h = new StateHistory(4);
    push(h, [1, 2, 3, 4, 5, 6, 7]); // ring holds 4 5 6 7 (absolute 3..6); groups of 2: [2 3] [4 5] [6 7]
    expect(h.bucketMax('ESTABLISHED', 3, 2)).toEqual([4, 6, 7]);
  });
});
