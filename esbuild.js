// Bundles the extension for packaging and for the real-VS-Code tests.
//   node esbuild.js            dist/extension.js (+ dist/engine-host.js when the engine has one)
//   node esbuild.js --tests    also the mocha suites: test/vscode/suite/*.ts -> out/test/vscode/suite/*.js
//   node esbuild.js --watch    rebuild on change
// onnxruntime-node stays outside the bundle (native binding, loaded from node_modules at run
// time); @huggingface/tokenizers is plain JavaScript and is bundled.
'use strict';
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const production = args.includes('--production');
const watch = args.includes('--watch');
const tests = args.includes('--tests');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node', 'onnxruntime-common'],
  // @huggingface/tokenizers ships ESM and CJS; pick CJS for the node bundle
  mainFields: ['main', 'module'],
  conditions: ['node', 'require'],
};

function engineHostEntry() {
  // The engine's child-process entry, whichever name the engine uses for it.
  for (const f of ['src/engine/host.ts', 'src/engine/childMain.ts', 'src/engine/worker.ts']) {
    if (fs.existsSync(path.join(__dirname, f))) return f;
  }
  return undefined;
}

async function main() {
  const builds = [{ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }];
  const host = engineHostEntry();
  if (host) builds.push({ ...common, entryPoints: [host], outfile: 'dist/engine-host.js', external: ['onnxruntime-node', 'onnxruntime-common'] });
  if (tests) {
    const dir = 'test/vscode/suite';
    const entries = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f));
    // Suites are bundled one file each, with vscode/mocha/assert left to the extension host.
    builds.push({ ...common, entryPoints: entries, outdir: 'out/test/vscode/suite', outfile: undefined,
      external: ['vscode', 'mocha', 'assert', 'onnxruntime-node'], sourcemap: true, minify: false });
    builds.push({ ...common, entryPoints: ['test/vscode/mock/mockEngine.ts'], outfile: 'out/test/vscode/mock/mockEngine.js', sourcemap: true, minify: false });
  }
  if (watch) {
    for (const b of builds) (await esbuild.context(b)).watch();
    console.log('[esbuild] watching');
    return;
  }
  const t0 = Date.now();
  await Promise.all(builds.map((b) => esbuild.build(b)));
  console.log(`[esbuild] built ${builds.map((b) => b.outfile || b.outdir).join(', ')} in ${Date.now() - t0} ms`);
}

main().catch((e) => { console.error(e); process.exit(1); });
