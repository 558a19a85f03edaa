// The layer rules in eslint.config.js must report a wrong-way import: lint small in-memory
// snippets placed (by filePath) in each layer and check which rule fires. Without this, a
// resolver that silently fails to resolve `../x.js` to `x.ts` would make the layer rule pass everything.
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

describe('import cycles', () => {
  it('a cycle between two modules is reported', async () => {
    const [result] = await eslint.lintFiles([path.join(root, 'test/lint-fixtures/cycle-a.ts')]);
    expect(result?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
