// Temporary proc trees for tests that run over --proc-root / createProcFs: made under os.tmpdir(),
// removed after the file's tests.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** The recorded /proc/net tables (test/fixtures/proc-text/recorded). */
export const RECORDED_NET = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'fixtures/proc-text/recorded');

/**
 * Temporary directories under os.tmpdir(), removed after the file's tests (call it at the top of
 * a test file): `empty()` a bare one; `recorded(tables)` one with a `net/` directory holding
 * copies of the recorded tables named (all of them when `tables` is absent).
 */
export function procRoots(prefix: string): { empty(): string; recorded(tables?: readonly string[]): string } {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
  });
  const empty = (): string => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    roots.push(root);
    return root;
  };
  return {
    empty,
    recorded(tables = fs.readdirSync(RECORDED_NET)) {
      const root = empty();
      fs.mkdirSync(path.join(root, 'net'));
      for (const name of tables) fs.copyFileSync(path.join(RECORDED_NET, name), path.join(root, 'net', name));
      return root;
    },
  };
}
