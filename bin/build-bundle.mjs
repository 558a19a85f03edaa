#!/usr/bin/env node
// Single-file build: dist/sockscope.mjs, the whole program (dashboard included) in one ESM file
// that runs with just `node` (>= 20) — no node_modules, nothing beside it. `npm run build` runs
// this after tsc. What it takes to make blessed fit in one file:
//
//  - blessed/lib/widget.js requires its widgets dynamically (`require('./widgets/' + file)`):
//    rewritten to a switch of static requires, same order, same laziness.
//  - blessed/lib/tput.js reads terminfo/termcap files at run time from `__dirname/../usr`
//    (Debian's ncurses-6 terminfo cannot be parsed by blessed, so it always falls back to these).
//    They are embedded in the bundle (base64) and tput.js gets an `fs` whose readFileSync /
//    statSync / readdirSync / existsSync answer for the embedded files under a virtual directory
//    (EMBED_ROOT) and pass everything else to the real fs; its `__dirname` points there. The
//    system terminfo directories are still looked at first, as in the unbundled build.
//  - blessed/lib/widgets/bigtext.js reads its fonts from `__dirname/../../usr/fonts` when a
//    BigText is created: pointed at the same virtual directory, where the fonts are NOT embedded
//    (640 KB; sockscope does not use BigText): it would fail with ENOENT, never at load.
//  - term.js / pty.js (optional, only for blessed's Terminal widget) are stubs that throw if used.
//  - The owner-mapping worker (src/proc/owner-worker.ts) has an output of its own,
//    dist/sockscope-owner-worker.cjs (~20 KB: owner-worker, owner-source, read-owners, proc-fs,
//    inode-index), so starting it no longer compiles and evaluates the whole 700 KB program
//    (~0.1 s CPU per start). Both bundles start it from there when it is beside them, else on
//    themselves (the .mjs copied alone stays a single file). The collect worker
//    (src/proc/collect-worker.ts, which starts the owner worker itself) still runs on the bundle:
//    the entry below checks workerData first, and tells owner-source.ts and collect-source.ts
//    which files to start workers on.
//  - package.json's version is injected with `define` (src/main.ts packageVersion()).
//  - ESM output needs a `require` for the CommonJS parts (blessed): createRequire banner.
//
// A second output, dist/sockscope.cjs, is the same program as CommonJS: bin/sockscope runs it on
// Node 20 through vm.Script with a V8 code cache (no module.enableCompileCache before Node 22.1);
// see bin/sockscope. It needs blessed's files no more than the .mjs does.
//
// Usage: node bin/build-bundle.mjs [outfile]   (default dist/sockscope.mjs; the .cjs beside it)
//        BUNDLE_META=meta.json also writes esbuild's metafile (what takes the space).
//        BUNDLE_MINIFY=0 leaves the output readable (for `node --cpu-prof` profiles with real names).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUTFILE = path.resolve(ROOT, process.argv[2] ?? 'dist/sockscope.mjs');
const CJS_OUTFILE = OUTFILE.replace(/(\.mjs)?$/, '.cjs');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

/** Virtual directory standing for node_modules/blessed inside the bundle (never on disk). */
const EMBED_ROOT = '/__sockscope_bundle__/blessed';
const EMBED_FS = 'sockscope-embedded-blessed-fs';

/** The owner worker's own output, beside the bundles (same directory). */
const OWNER_WORKER_FILE = 'sockscope-owner-worker.cjs';
const OWNER_WORKER_OUTFILE = path.join(path.dirname(OUTFILE), OWNER_WORKER_FILE);

/** Entry of that output: only owner-worker.ts and what it imports (no blessed, no UI). */
const ENTRY_OWNER_WORKER = `import './src/proc/owner-worker.ts';`;

/** Entry: the owner worker when started as one, else main(argv) like bin/sockscope. */
const ENTRY = `
import fs from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { OWNER_WORKER_MARK, setOwnerWorkerPath } from './src/proc/owner-source.ts';
import { COLLECT_WORKER_MARK, setCollectWorkerPath } from './src/proc/collect-source.ts';

if (!isMainThread && workerData?.mark === OWNER_WORKER_MARK) {
  await import('./src/proc/owner-worker.ts');
} else if (!isMainThread && workerData?.mark === COLLECT_WORKER_MARK) {
  await import('./src/proc/collect-worker.ts');
} else {
  const ownerWorker = fileURLToPath(new URL('./${OWNER_WORKER_FILE}', import.meta.url));
  setOwnerWorkerPath(fs.existsSync(ownerWorker) ? ownerWorker : fileURLToPath(import.meta.url));
  setCollectWorkerPath(fileURLToPath(import.meta.url));
  const { main } = await import('./src/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
`;

/** The same for the CommonJS output: no top-level await; the worker runs on this file (__filename). */
const ENTRY_CJS = `
import fs from 'node:fs';
import path from 'node:path';
import { isMainThread, workerData } from 'node:worker_threads';
import { OWNER_WORKER_MARK, setOwnerWorkerPath } from './src/proc/owner-source.ts';
import { COLLECT_WORKER_MARK, setCollectWorkerPath } from './src/proc/collect-source.ts';

if (!isMainThread && workerData?.mark === OWNER_WORKER_MARK) {
  void import('./src/proc/owner-worker.ts');
} else if (!isMainThread && workerData?.mark === COLLECT_WORKER_MARK) {
  void import('./src/proc/collect-worker.ts');
} else {
  const ownerWorker = path.join(__dirname, '${OWNER_WORKER_FILE}');
  setOwnerWorkerPath(fs.existsSync(ownerWorker) ? ownerWorker : __filename);
  setCollectWorkerPath(__filename);
  void import('./src/main.ts')
    .then(({ main }) => main(process.argv.slice(2)))
    .then((code) => {
      process.exitCode = code;
    });
}
`;

const BANNER_CJS = [
  '#!/usr/bin/env node',
  `// sockscope ${pkg.version}: single-file build, CommonJS (bin/build-bundle.mjs); needs only Node.js >= 20.`,
].join('\n');

const BANNER = [
  '#!/usr/bin/env node',
  `// sockscope ${pkg.version}: single-file build (bin/build-bundle.mjs); needs only Node.js >= 20.`,
  "import { createRequire as __sockscopeCreateRequire } from 'node:module';",
  'const require = __sockscopeCreateRequire(import.meta.url);',
].join('\n');

const blessedDir = path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('blessed/package.json'));

/** Replace `from` exactly `count` times; a changed blessed must fail the build, not the program. */
function replaceExactly(source, from, to, count, where) {
  const found = source.split(from).length - 1;
  if (found !== count) throw new Error(`build-bundle: expected ${count} × ${JSON.stringify(from)} in ${where}, found ${found}`);
  return source.split(from).join(to);
}

/** The terminfo/termcap files of blessed/usr (not the fonts), as { '/virtual/path': base64 }. */
function embeddedUsrFiles() {
  const usr = path.join(blessedDir, 'usr');
  const files = {};
  for (const name of fs.readdirSync(usr).sort()) {
    const file = path.join(usr, name);
    if (!fs.statSync(file).isFile()) continue;
    files[`${EMBED_ROOT}/usr/${name}`] = fs.readFileSync(file).toString('base64');
  }
  for (const needed of ['xterm', 'xterm-256color', 'xterm.termcap']) {
    if (!(`${EMBED_ROOT}/usr/${needed}` in files)) throw new Error(`build-bundle: blessed/usr/${needed} is missing`);
  }
  return files;
}

/** An fs for tput.js / bigtext.js: embedded files under EMBED_ROOT, the real fs elsewhere. */
function embeddedFsModule() {
  return `
const fs = require('fs');
const path = require('path');
const ROOT = ${JSON.stringify(EMBED_ROOT)};
const FILES = ${JSON.stringify(embeddedUsrFiles())};
const cache = new Map();
const inside = (p) => typeof p === 'string' && (p === ROOT || p.startsWith(ROOT + '/'));
const norm = (p) => path.resolve(String(p));
function data(p) {
  let buf = cache.get(p);
  if (buf === undefined && Object.prototype.hasOwnProperty.call(FILES, p)) cache.set(p, (buf = Buffer.from(FILES[p], 'base64')));
  return buf;
}
function isDir(p) {
  return p === ROOT || Object.keys(FILES).some((f) => f.startsWith(p + '/'));
}
function enoent(syscall, p) {
  const err = new Error("ENOENT: no such file or directory, " + syscall + " '" + p + "'");
  return Object.assign(err, { code: 'ENOENT', errno: -2, syscall, path: p });
}
function fakeStat(file, size) {
  return { isFile: () => file, isDirectory: () => !file, isSymbolicLink: () => false, size, mode: file ? 0o100644 : 0o40755 };
}
module.exports = Object.assign(Object.create(fs), {
  readFileSync(p, options) {
    if (!inside(norm(p))) return fs.readFileSync(p, options);
    const buf = data(norm(p));
    if (buf === undefined) throw enoent('open', norm(p));
    const encoding = typeof options === 'string' ? options : options && options.encoding;
    return encoding ? buf.toString(encoding) : Buffer.from(buf);
  },
  statSync(p, options) {
    if (!inside(norm(p))) return fs.statSync(p, options);
    const buf = data(norm(p));
    if (buf !== undefined) return fakeStat(true, buf.length);
    if (isDir(norm(p))) return fakeStat(false, 0);
    if (options && options.throwIfNoEntry === false) return undefined;
    throw enoent('stat', norm(p));
  },
  existsSync(p) {
    if (!inside(norm(p))) return fs.existsSync(p);
    return data(norm(p)) !== undefined || isDir(norm(p));
  },
  readdirSync(p, options) {
    if (!inside(norm(p))) return fs.readdirSync(p, options);
    const dir = norm(p);
    if (!isDir(dir)) throw enoent('scandir', dir);
    const names = new Set();
    for (const f of Object.keys(FILES)) if (f.startsWith(dir + '/')) names.add(f.slice(dir.length + 1).split('/')[0]);
    return [...names].sort();
  },
});
`;
}

/** What the bundle needs from blessed and its optional dependencies. */
const blessedPlugin = {
  name: 'sockscope-blessed',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^${EMBED_FS}$`) }, () => ({ path: EMBED_FS, namespace: 'sockscope' }));
    b.onLoad({ filter: /.*/, namespace: 'sockscope' }, (args) => {
      if (args.path === EMBED_FS) return { contents: embeddedFsModule(), loader: 'js', resolveDir: ROOT };
      const name = args.path.slice('optional:'.length);
      return {
        contents: `function unavailable() { throw new Error(${JSON.stringify(`${name} is not included in the sockscope single-file build`)}); }
module.exports = unavailable; module.exports.fork = unavailable;`,
        loader: 'js',
      };
    });
    // Optional dependencies of blessed's Terminal widget, required only when one is created.
    b.onResolve({ filter: /^(term\.js|pty\.js)$/ }, (args) => ({ path: `optional:${args.path}`, namespace: 'sockscope' }));

    b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widget\.js$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      const list = /widget\.classes = \[([^\]]*)\]/.exec(source);
      if (list === null) throw new Error('build-bundle: widget.classes not found in blessed/lib/widget.js');
      const files = [...list[1].matchAll(/'(\w+)'/g)].map((m) => m[1].toLowerCase());
      for (const f of files) {
        if (!fs.existsSync(path.join(path.dirname(args.path), 'widgets', `${f}.js`)))
          throw new Error(`build-bundle: blessed widget ${f}.js missing`);
      }
      const cases = files.map((f) => `    case ${JSON.stringify(f)}: return require(${JSON.stringify(`./widgets/${f}`)});`).join('\n');
      const staticRequire = `function __sockscopeWidget(file) {\n  switch (file) {\n${cases}\n    default: throw new Error('unknown blessed widget ' + file);\n  }\n}\n`;
      const contents = replaceExactly(source, "require('./widgets/' + file)", '__sockscopeWidget(file)', 1, 'blessed/lib/widget.js');
      return { contents: `${contents}\n${staticRequire}`, loader: 'js' };
    });

    b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]tput\.js$/ }, async (args) => {
      let contents = await fs.promises.readFile(args.path, 'utf8');
      contents = replaceExactly(contents, "fs = require('fs')", `fs = require(${JSON.stringify(EMBED_FS)})`, 1, 'blessed/lib/tput.js');
      contents = replaceExactly(contents, '__dirname', JSON.stringify(`${EMBED_ROOT}/lib`), 4, 'blessed/lib/tput.js');
      return { contents, loader: 'js' };
    });

    b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widgets[\\/]bigtext\.js$/ }, async (args) => {
      let contents = await fs.promises.readFile(args.path, 'utf8');
      contents = replaceExactly(contents, "require('fs')", `require(${JSON.stringify(EMBED_FS)})`, 1, 'blessed/lib/widgets/bigtext.js');
      contents = replaceExactly(contents, '__dirname', JSON.stringify(`${EMBED_ROOT}/lib/widgets`), 2, 'blessed/lib/widgets/bigtext.js');
      return { contents, loader: 'js' };
    });
  },
};

/** One output: the ESM program (dist/sockscope.mjs) or the CommonJS one (dist/sockscope.cjs). */
async function buildOne(format, outfile, entry = format === 'esm' ? ENTRY : ENTRY_CJS) {
  const result = await build({
    stdin: { contents: entry, resolveDir: ROOT, sourcefile: 'sockscope-bundle-entry.ts', loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format,
    minify: process.env.BUNDLE_MINIFY !== '0',
    keepNames: true,
    legalComments: 'eof',
    banner: { js: format === 'esm' ? BANNER : BANNER_CJS },
    define: { SOCKSCOPE_BUNDLE_VERSION: JSON.stringify(pkg.version) },
    plugins: [blessedPlugin],
    // import.meta (owner-source.ts, main.ts) is only reached without the bundle's overrides.
    logOverride: format === 'cjs' ? { 'empty-import-meta': 'silent' } : {},
    logLevel: 'warning',
    metafile: true,
  });
  fs.chmodSync(outfile, 0o755);
  const leftovers = Object.keys(result.metafile.inputs).filter((f) => /[\\/]blessed[\\/]usr[\\/]/.test(f));
  if (leftovers.length > 0) throw new Error(`build-bundle: unexpected inputs ${leftovers.join(', ')}`);
  return result;
}

/** The owner worker alone; fails the build if it pulled in more than the data layer. */
async function buildOwnerWorker() {
  const result = await buildOne('cjs', OWNER_WORKER_OUTFILE, ENTRY_OWNER_WORKER);
  const outside = Object.keys(result.metafile.inputs).filter((f) => f !== 'sockscope-bundle-entry.ts' && !/^src\/(proc|model)\//.test(f));
  if (outside.length > 0) throw new Error(`build-bundle: the owner worker pulls in ${outside.join(', ')}`);
}

const result = await buildOne('esm', OUTFILE);
await buildOne('cjs', CJS_OUTFILE);
await buildOwnerWorker();
const size = fs.statSync(OUTFILE).size;
if (process.env.BUNDLE_META) fs.writeFileSync(process.env.BUNDLE_META, JSON.stringify(result.metafile));
process.stdout.write(
  `build-bundle: ${path.relative(ROOT, OUTFILE)} ${(size / 1024).toFixed(0)} KiB, ${path.relative(ROOT, CJS_OUTFILE)} ${(fs.statSync(CJS_OUTFILE).size / 1024).toFixed(0)} KiB, ${path.relative(ROOT, OWNER_WORKER_OUTFILE)} ${(fs.statSync(OWNER_WORKER_OUTFILE).size / 1024).toFixed(0)} KiB\n`,
);
