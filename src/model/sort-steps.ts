// Long pure work as generators of steps (pausing at each `yield`): run at once by runSteps, or in
// time slices by runInSlices (slices.ts) so the event loop turns between steps.

/** Runs steps to the end at once. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** Items sorted or merged between two pauses. */
const STEP_ITEMS = 2048;

/**
 * `items` sorted by `cmp` (a new array), in steps: runs of STEP_ITEMS sorted by Array#sort, then
 * merged pairwise, pausing every STEP_ITEMS items. Stable, as Array#sort: with a total order the
 * result equals `[...items].sort(cmp)`.
 */
export function* sortSteps<T>(items: readonly T[], cmp: (a: T, b: T) => number): Generator<void, T[]> {
  if (items.length <= STEP_ITEMS) return [...items].sort(cmp);
  let runs: T[][] = [];
  for (let i = 0; i < items.length; i += STEP_ITEMS) {
    runs.push(items.slice(i, i + STEP_ITEMS).sort(cmp));
    yield;
  }
  while (runs.length > 1) {
    const next: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i] as T[];
      const b = runs[i + 1];
      next.push(b === undefined ? a : yield* mergeSteps(a, b, cmp));
    }
    runs = next;
  }
  return runs[0] ?? [];
}

/** Two sorted arrays merged (ties: `a` first, which keeps the sort stable), pausing every STEP_ITEMS items. */
function* mergeSteps<T>(a: readonly T[], b: readonly T[], cmp: (x: T, y: T) => number): Generator<void, T[]> {
  const out: T[] = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    out[k++] = cmp(b[j] as T, a[i] as T) < 0 ? (b[j++] as T) : (a[i++] as T);
    if (k % STEP_ITEMS === 0) yield;
  }
  while (i < a.length) out[k++] = a[i++] as T;
  while (j < b.length) out[k++] = b[j++] as T;
  return out;
}
