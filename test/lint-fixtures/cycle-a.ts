// Deliberate import cycle (with cycle-b.ts) that test/lint-rules.test.ts expects import-x/no-cycle to report.
import { cycleB } from './cycle-b.js';

export function cycleA(depth: number): number {
  return depth <= 0 ? 0 : cycleB(depth - 1) + 1;
}
