// Long work run as a generator of steps, in slices of about `sliceMs` of this thread's time with
// `pause()` (e.g. setImmediate) awaited between them, so the event loop (keys, frames) runs.

/** How to slice: the slice length, the clock it is measured on (ms), and the pause between slices. */
export interface SliceOptions {
  readonly sliceMs: number;
  readonly clock: () => number;
  readonly pause: () => Promise<void>;
}

/** Runs `steps` to the end in slices; resolves with its value and the time spent in slices (ms of `clock`). */
export async function runInSlices<T>(
  steps: Generator<void, T>,
  slices: SliceOptions,
): Promise<{ readonly value: T; readonly busyMs: number }> {
  let busyMs = 0;
  let t0 = slices.clock();
  for (;;) {
    const step = steps.next();
    const t1 = slices.clock();
    if (step.done === true) return { value: step.value, busyMs: busyMs + (t1 - t0) };
    if (t1 - t0 < slices.sliceMs) continue;
    busyMs += t1 - t0;
    await slices.pause();
    t0 = slices.clock();
  }
}
