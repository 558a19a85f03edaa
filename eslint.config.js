// ESLint flat config. What it enforces, in order of importance:
// 1. The layers (README "How it is built"): model imports nothing else of ours; filter and proc only
//    model; view only model and filter; ui only view, model and filter; blessed only in ui.
//    A wrong-way import fails `npm run lint`; test/lint-rules.test.ts proves the rule fires.
// 2. No import cycles.
// 3. A small set of correctness rules from typescript-eslint.
// Formatting is Prettier's job (see package.json "format"), not ESLint's.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const root = import.meta.dirname;

/** Each layer (a folder of src/) and the layers it may import. main.ts may import anything. */
const LAYERS = {
  model: [],
  filter: ['model'],
  proc: ['model'],
  view: ['model', 'filter'],
  ui: ['view', 'model', 'filter'],
  cli: ['model', 'filter', 'proc', 'view'],
};

/** no-restricted-paths zones for the files of `layer`: every other layer it may not import, and main.ts. */
function layerZones(layer) {
  const forbidden = [...Object.keys(LAYERS).filter((other) => other !== layer && !LAYERS[layer].includes(other)), 'main.ts'];
  return forbidden.map((other) => {
    const from = other === 'main.ts' ? 'src/main.ts' : `src/${other}`;
    const message = `src/${layer} may import only ${LAYERS[layer].length > 0 ? LAYERS[layer].join(', ') : 'node: modules'} (README "How it is built").`;
    return { target: `src/${layer}`, from, message };
  });
}

function layerRule(layer) {
  return ['error', { basePath: root, zones: layerZones(layer) }];
}

const BLESSED_ONLY_IN_UI = [
  'error',
  {
    paths: [{ name: 'blessed', message: 'blessed is used only in src/ui: the other layers stay testable without a terminal.' }],
  },
];

export default tseslint.config(
  // test/lint-fixtures holds deliberate violations that test/lint-rules.test.ts lints with ignore: false.
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'test/fixtures/**', 'test/lint-fixtures/**', 'screenshots/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Without extensions and parsers for .ts, no-cycle cannot read the modules it follows and reports nothing.
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: path.join(root, 'tsconfig.test.json') })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-self-import': 'error',
      'import-x/no-duplicates': 'error',
      // Terminal sanitisers match control characters on purpose (safeText, ANSI stripping in tests).
      'no-control-regex': 'off',
      // tsc's noUnusedLocals/noUnusedParameters report these already, with the same precision.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  ...Object.keys(LAYERS).map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'import-x/no-restricted-paths': layerRule(layer),
      ...(layer === 'ui' ? {} : { 'no-restricted-imports': BLESSED_ONLY_IN_UI }),
    },
  })),
  { files: ['src/main.ts'], rules: { 'no-restricted-imports': BLESSED_ONLY_IN_UI } },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Expected screen text is written as it appears, spaces included.
      'no-regex-spaces': 'off',
      // parse-counters checks that a u64 beyond 2^53 becomes the nearest Number: the literal is the point.
      'no-loss-of-precision': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/sockscope'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The launcher is CommonJS (bin/package.json): no ESM loader before the program starts.
    files: ['bin/sockscope'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
