// Runs the mocha suites (out/test/vscode/suite/index.js) inside code-server's real extension
// host, driven by Debian's Chromium. Exit code = test result. Also prints `N passed, N failed`.
//   node test/vscode/runTests.js [--timeout 900] [--screenshot-dir DIR]
//   env: FLOWSTATE_TEST_GREP (mocha grep), FLOWSTATE_LOG_LEVEL=trace (every completion in Flowstate.log)
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const TIMEOUT_S = Number(opt('--timeout', process.env.FLOWSTATE_TEST_TIMEOUT || 900));
const SHOTS = opt('--screenshot-dir', path.join(lib.CACHE, 'screenshots', 'tests'));
const log = (m) => console.log(`[harness] ${m}`);
const util = require('util');
const MOCK = argv.includes('--mock');
const NOISE = /ENOTFOUND open-vsx\.org|^\s+at .*workbench\.js|Failed to fetch|marketplace|gallery/i;

async function main() {
  const t0 = Date.now();
  const dir = lib.makeRunDir('tests');
  const ws = path.join(dir, 'ws');
  lib.makeWorkspace(ws);
  const model = process.env.FLOWSTATE_TEST_MODEL || path.join(lib.ROOT, 'models', 'tiny-flowformer');
  lib.writeUserSettings(dir, {
    'flowstate.modelPath': model,
    'flowstate.provider': process.env.FLOWSTATE_TEST_PROVIDER || 'cpu',
  });
  log(`run dir ${dir}`);
  if (MOCK) {
    process.env.FLOWSTATE_ENGINE_MODULE = path.join(lib.ROOT, 'out', 'test', 'vscode', 'mock', 'mockEngine.js');
    log('engine: the mock engine (--mock)');
  }
  const server = await lib.startCodeServer(dir, { log });
  let browser;
  let exitCode = 1;
  let passed = 0, failed = 0, sawSummary = false;
  const onLine = (line) => {
    const m = /^FLOWSTATE_RESULT (\d+) passed, (\d+) failed/.exec(line);
    if (m) { passed = +m[1]; failed = +m[2]; sawSummary = true; }
    const k = /^FLOWSTATE_MEASURE (.*)$/.exec(line);
    if (k) measures.push(k[1]);
  };
  const measures = [];
  try {
    const b = await lib.launchBrowser(dir);
    browser = b.browser;
    const page = b.page;
    const done = new Promise((resolve) => {
      page.exposeFunction('codeAutomationExit', (code) => { resolve(code); });
    });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = Array.isArray(args) ? util.format(...args) : String(args);
      let skipping = false;
      for (const line of text.split('\n')) {
        if (NOISE.test(line)) { skipping = true; continue; }
        if (skipping && /^\s+at /.test(line)) continue;
        skipping = false;
        onLine(line);
        console.log(line);
      }
    });
    page.on('pageerror', (e) => log(`page error: ${e.message}`));
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(lib.ROOT)],
      ['extensionTestsPath', remote(path.join(lib.ROOT, 'out', 'test', 'vscode', 'suite', 'index.js'))],
    ];
    await page.goto(lib.workbenchUrl(server.port, ws, payload));
    const timer = new Promise((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_S * 1000));
    // While the suites run, take a screenshot now and then: the last one shows where a hang happened.
    fs.mkdirSync(SHOTS, { recursive: true });
    const shooter = setInterval(() => { page.screenshot({ path: path.join(SHOTS, 'last.png') }).catch(() => {}); }, 10000);
    const code = await Promise.race([done, timer]);
    clearInterval(shooter);
    if (code === 'timeout') {
      log(`timed out after ${TIMEOUT_S} s`);
      await page.screenshot({ path: path.join(SHOTS, 'timeout.png') }).catch(() => {});
      exitCode = 1;
    } else {
      exitCode = Number(code) === 0 ? 0 : 1;
    }
  } catch (e) {
    log(`error: ${e && e.stack || e}`);
    exitCode = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    server.stop();
  }
  if (!sawSummary) { failed = Math.max(failed, 1); }
  if (exitCode !== 0 && failed === 0) failed = 1;
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s, exit ${exitCode}; logs under ${dir}`);
  if (exitCode !== 0) lib.printExtensionLog(dir);
  if (measures.length) {
    console.log('\n| measure | file | size | n | p50 | p95 | notes |\n|---|---|---|---|---|---|---|');
    for (const m of measures) console.log(`| ${m} |`);
    console.log('');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(exitCode);
}

main();
