// The layer rules in eslint.config.js must report a wrong-way import: lint small in-memory
// snippets placed (by filePath) in each layer and check which rule fires. Without this, a
// resolver that silently fails to resolve `../x.js` to `x.ts` would make the layer rule pass everything.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let eslint: ESLint;

beforeAll(() => {
  // ignore: false so the deliberate cycle in test/lint-fixtures is linted here (and only here).
  eslint = new ESLint({ cwd: root, ignore: false });
});

/** Rule ids reported for `code` as if it were the file at `relPath`. */
async function rulesFor(relPath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, relPath) });
  if (!result) throw new Error('no lint result');
  const fatal = result.messages.filter((m) => m.fatal);
  if (fatal.length > 0) throw new Error(fatal.map((m) => m.message).join('; '));
  return result.messages.map((m) => m.ruleId ?? '');
}

const LAYER_RULE = 'import-x/no-restricted-paths';

describe('layer rules', () => {
  it.each([
    ['src/model/new-file.ts', "import { createProcFs } from '../proc/proc-fs.js';\nexport const f = createProcFs;\n"],
    ['src/model/new-file.ts', "import { compileFilter } from '../filter/index.js';\nexport const f = compileFilter;\n"],
    ['src/filter/new-file.ts', "import type { SocketRow } from '../view/socket-rows.js';\nexport type R = SocketRow;\n"],
    ['src/proc/new-file.ts', "import { compileFilter } from '../filter/index.js';\nexport const f = compileFilter;\n"],
    ['src/view/new-file.ts', "import { formatOwner } from '../cli/format-once.js';\nexport const f = formatOwner;\n"],
    ['src/ui/new-file.ts', "import { createProcFs } from '../proc/proc-fs.js';\nexport const f = createProcFs;\n"],
    ['src/ui/new-file.ts', "export async function load() {\n  return import('../cli/options.js');\n}\n"],
    ['src/model/new-file.ts', "import type { Services } from '../main.js';\nexport type S = Services;\n"],
  ])('%s: a wrong-way import fails (%#)', async (file, code) => {
    expect(await rulesFor(file, code)).toContain(LAYER_RULE);
  });

  it.each([
    ['src/filter/new-file.ts', "import type { SocketRecord } from '../model/types.js';\nexport type R = SocketRecord;\n"],
    ['src/view/new-file.ts', "import { compileFilter } from '../filter/index.js';\nexport const f = compileFilter;\n"],
    ['src/ui/new-file.ts', "import { formatDuration } from '../view/text.js';\nexport const f = formatDuration;\n"],
    ['src/cli/new-file.ts', "import { createProcFs } from '../proc/proc-fs.js';\nexport const f = createProcFs;\n"],
  ])('%s: an allowed import passes (%#)', async (file, code) => {
    expect(await rulesFor(file, code)).toEqual([]);
  });

  it('a listed exception covers only its own file and import', async () => {
    const presenter = "import { formatOwner } from '../cli/format-once.js';\nexport const f = formatOwner;\n";
    expect(await rulesFor('src/view/dashboard-view.ts', presenter)).toEqual([]);
    const other = "import { parseCli } from '../cli/options.js';\nexport const f = parseCli;\n";
    expect(await rulesFor('src/view/dashboard-view.ts', other)).toContain(LAYER_RULE);
  });

  it('blessed is imported only in src/ui', async () => {
    const code = "import blessed from 'blessed';\nexport const b = blessed;\n";
    expect(await rulesFor('src/view/new-file.ts', code)).toContain('no-restricted-imports');
    expect(await rulesFor('src/ui/new-file.ts', code)).toEqual([]);
  });
});

interface Zone {
  readonly from: string;
  readonly except?: readonly string[];
}

/** Repo-relative module paths that the config lets `file` import against its layer's rule. */
async function exceptionsOf(file: string): Promise<string[]> {
  const config = (await eslint.calculateConfigForFile(path.join(root, file))) as { rules?: Record<string, unknown> };
  const rule = config.rules?.[LAYER_RULE] as [unknown, { zones: readonly Zone[] }] | undefined;
  if (rule === undefined) return [];
  return rule[1].zones.flatMap((zone) =>
    (zone.except ?? []).map((e) => path.posix.normalize(path.posix.join(zone.from, e)).replace(/\/$/, '')),
  );
}

describe('the listed exceptions (KNOWN_VIOLATIONS in eslint.config.js)', () => {
  it('each one is an import its file still makes: a fixed import must leave the list', async () => {
    const files = fs
      .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `src/${f.split(path.sep).join('/')}`);
    let listed = 0;
    for (const file of files) {
      const allowed = await exceptionsOf(file);
      if (allowed.length === 0) continue;
      // The same text as a new file in the same folder, which no exception covers: every
      // wrong-way import it makes is reported, and each listed one must be among them.
      const probe = path.join(path.dirname(file), 'lint-probe.ts');
      const [result] = await eslint.lintText(fs.readFileSync(path.join(root, file), 'utf8'), { filePath: path.join(root, probe) });
      const reported = new Set(
        (result?.messages ?? [])
          .filter((m) => m.ruleId === LAYER_RULE)
          .map((m) => /"([^"]+)"/.exec(m.message)?.[1] ?? '')
          .map((spec) => path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, '.ts')),
      );
      for (const module of allowed) {
        expect(reported, `${file} no longer imports ${module}: remove it from KNOWN_VIOLATIONS`).toContain(module);
        listed++;
      }
    }
    expect(listed).toBeGreaterThan(0);
  });
});

describe('import cycles', () => {
  it('a cycle between two modules is reported', async () => {
    const [result] = await eslint.lintFiles([path.join(root, 'test/lint-fixtures/cycle-a.ts')]);
    expect(result?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
