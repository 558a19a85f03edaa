import { describe, expect, it } from 'vitest';
import { budgetRefreshInterval, MAX_BACKED_OFF_MS } from '../src/model/refresh-budget.js';

describe('budgetRefreshInterval: CPU of every thread per refresh against a share of a core', () => {
  it.each([
    // chosen ms, cpu ms per refresh, share → interval ms, backed off
    [1000, 100, 0.5, 1000, false],
    [1000, 500, 0.5, 1000, false], // exactly at the limit
    [1000, 620, 0.5, 1250, true],
    [1000, 1900, 0.5, 4000, true], // 3800 → next 250 ms step
    [250, 100, 0.25, 500, true],
    [1000, 60_000, 0.5, MAX_BACKED_OFF_MS, true],
    [1000, 0, 0.5, 1000, false],
  ])('chosen %i ms, %i ms cpu, share %f → %i ms', (chosen, cpu, share, interval, backedOff) => {
    const b = budgetRefreshInterval(chosen, cpu, share);
    expect(b.intervalMs).toBe(interval);
    expect(b.backedOff).toBe(backedOff);
    expect(b.reason === '').toBe(!backedOff);
  });

  it('says why in a few words, with the cost and the limit', () => {
    expect(budgetRefreshInterval(1000, 620, 0.5).reason).toBe('a refresh costs 0.62 s cpu (max 50% of a core)');
  });

  it('a NaN cost (no measurement) keeps the chosen interval', () => {
    expect(budgetRefreshInterval(1000, NaN).intervalMs).toBe(1000);
  });
});
