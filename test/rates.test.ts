import { describe, expect, it } from 'vitest';

import { HEADLINE_COUNTERS, computeRates } from '../src/model/rates.js';

interface Case {
  readonly name: string;
  readonly prev: Readonly<Record<string, number>>;
  readonly next: Readonly<Record<string, number>>;
  readonly intervalMs: number;
  readonly rates: Readonly<Record<string, number>>;
}

describe('computeRates', () => {
  it.each<Case>([
    {
      name: 'per second over a 1 s interval',
      prev: { 'Tcp.ActiveOpens': 100, 'Tcp.PassiveOpens': 50 },
      next: { 'Tcp.ActiveOpens': 130, 'Tcp.PassiveOpens': 50 },
      intervalMs: 1000,
      rates: { 'Tcp.ActiveOpens': 30, 'Tcp.PassiveOpens': 0 },
    },
    {
      name: 'scaled to per second over 250 ms',
      prev: { a: 0, b: 0 },
      next: { a: 5, b: 5 },
      intervalMs: 250,
      rates: { a: 20, b: 20 },
    },
    {
      name: 'fractional rates are kept',
      prev: { 'Tcp.RetransSegs': 10 },
      next: { 'Tcp.RetransSegs': 11 },
      intervalMs: 2000,
      rates: { 'Tcp.RetransSegs': 0.5 },
    },
    {
      name: 'a counter going backwards (reset, wrap) gives 0, never negative',
      prev: { 'Tcp.OutRsts': 5_000_000, 'Tcp.InErrs': 3 },
      next: { 'Tcp.OutRsts': 12, 'Tcp.InErrs': 9 },
      intervalMs: 1000,
      rates: { 'Tcp.OutRsts': 0, 'Tcp.InErrs': 6 },
    },
    {
      name: 'counters missing on either side are left out',
      prev: { old: 1, both: 1 },
      next: { both: 4, fresh: 100 },
      intervalMs: 1000,
      rates: { both: 3 },
    },
    { name: 'interval 0 → empty', prev: { a: 1 }, next: { a: 100 }, intervalMs: 0, rates: {} },
    { name: 'negative interval (clock went back) → empty', prev: { a: 1 }, next: { a: 100 }, intervalMs: -1000, rates: {} },
    { name: 'no counters → empty', prev: {}, next: {}, intervalMs: 1000, rates: {} },
  ])('$name', ({ prev, next, intervalMs, rates }) => {
    expect(computeRates(prev, next, intervalMs)).toEqual(rates);
  });

  it('handles counters beyond 2^32 (64-bit kernel counters) exactly', () => {
    const big = 2 ** 40;
    expect(computeRates({ x: big }, { x: big + 3000 }, 1000)).toEqual({ x: 3000 });
  });
});

describe('HEADLINE_COUNTERS', () => {
  it('keys are Group.Field names and labels are unique', () => {
    for (const c of HEADLINE_COUNTERS) expect(c.key).toMatch(/^(Tcp|TcpExt)\.[A-Za-z]+$/);
    expect(new Set(HEADLINE_COUNTERS.map((c) => c.label)).size).toBe(HEADLINE_COUNTERS.length);
  });
});
