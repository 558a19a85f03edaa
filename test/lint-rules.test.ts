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

  it.each([
    ['src/view/dashboard-view.ts', "import { formatOwner } from '../cli/format-once.js';\nexport const f = formatOwner;\n"],
    ['src/ui/replay-feed.ts', "import { openRecording } from '../cli/recording-file.js';\nexport const f = openRecording;\n"],
    ['src/ui/run-dashboard.ts', "import { readTcpInfo } from '../proc/read-tcp-info.js';\nexport const f = readTcpInfo;\n"],
    ['src/cli/run-once.ts', "import type { Services } from '../main.js';\nexport type S = Services;\n"],
  ])('%s, which once imported the wrong way, is held to the rule like any file (%#)', async (file, code) => {
    expect(await rulesFor(file, code)).toContain(LAYER_RULE);
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

describe('no file is excused from its layer', () => {
  it('the layer rule of every file in src/ lists no exceptions', async () => {
    const files = fs
      .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `src/${f.split(path.sep).join('/')}`);
    let checked = 0;
    for (const file of files) {
      const config = (await eslint.calculateConfigForFile(path.join(root, file))) as { rules?: Record<string, unknown> };
      const rule = config.rules?.[LAYER_RULE] as [unknown, { zones: readonly Zone[] }] | undefined;
      if (file === 'src/main.ts') continue;
      expect(rule, `${file} has no layer rule`).toBeDefined();
      expect(
        rule?.[1].zones.flatMap((zone) => zone.except ?? []),
        file,
      ).toEqual([]);
      checked++;
    }
    expect(checked).toBe(files.length - 1);
  });
});

describe('import cycles', () => {
  it('a cycle between two modules is reported', async () => {
    const [result] = await eslint.lintFiles([path.join(root, 'test/lint-fixtures/cycle-a.ts')]);
    expect(result?.messages.map((m) => m.ruleId)).toContain('import-x/no-cycle');
  });
});
