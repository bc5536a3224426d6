// The same mocha suites in desktop VS Code through @vscode/test-electron, for machines that can
// download VS Code (it downloads at run time: offline, e.g. in this project's CI, use run.sh,
// which runs them in code-server instead).
//   node esbuild.js --tests && node test/vscode/electron.js
// FLOWSTATE_VSCODE_VERSION picks the VS Code version (default pinned below); FLOWSTATE_TEST_MODEL
// the model folder (default models/tiny-flowformer). Prints `N passed, N failed` like run.sh.
'use strict';
const path = require('path');
const lib = require('./lib');

const VERSION = process.env.FLOWSTATE_VSCODE_VERSION || '1.105.1';

async function main() {
  const { runTests } = require('@vscode/test-electron');
  const dir = lib.makeRunDir('electron');
  const ws = path.join(dir, 'ws');
  lib.makeWorkspace(ws);
  // Desktop VS Code is not remote: machine-scoped settings apply from the user settings.
  lib.writeUserSettings(dir, {
    'flowstate.modelPath': process.env.FLOWSTATE_TEST_MODEL || path.join(lib.ROOT, 'models', 'tiny-flowformer'),
    'flowstate.provider': process.env.FLOWSTATE_TEST_PROVIDER || 'cpu',
  });
  // The suites print `FLOWSTATE_RESULT N passed, N failed`; VS Code's output comes through our stdout.
  let passed = 0, failed = 0, seen = false;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const m = /FLOWSTATE_RESULT (\d+) passed, (\d+) failed/.exec(String(chunk));
    if (m) { passed = +m[1]; failed = +m[2]; seen = true; }
    return write(chunk, ...rest);
  };
  try {
    await runTests({
      version: VERSION,
      extensionDevelopmentPath: lib.ROOT,
      extensionTestsPath: path.join(lib.ROOT, 'out', 'test', 'vscode', 'suite', 'index.js'),
      launchArgs: [ws, '--user-data-dir', path.join(dir, 'ud'), '--extensions-dir', path.join(dir, 'exts'),
        '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
    });
  } catch (e) {
    console.error(`[electron] ${e && e.message || e}`);
    if (!failed) failed = 1;
  }
  if (!seen && !failed) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
