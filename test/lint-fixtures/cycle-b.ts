// Deliberate import cycle (with cycle-a.ts) that test/lint-rules.test.ts expects import-x/no-cycle to report.
import { cycleA } from './cycle-a.js';

export function cycleB(depth: number): number {
  return depth <= 0 ? 0 : cycleA(depth - 1) + 1;
}
