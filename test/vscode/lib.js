// Shared pieces of the real-VS-Code harness: code-server (from npm, Node 24) and Debian's
// Chromium driven by playwright-core. Plain CommonJS so it runs with no build step.
'use strict';
const cp = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const http = require('http');

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = process.env.FLOWSTATE_VSCODE_CACHE || path.join(ROOT, '.vscode-test');
const NODE24 = path.join(CACHE, 'node24', 'node_modules', 'node', 'bin', 'node');
const CODE_SERVER = path.join(CACHE, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const CHROMIUM = process.env.FLOWSTATE_CHROMIUM || '/usr/bin/chromium';

function playwright() {
  return require(path.join(CACHE, 'pw', 'node_modules', 'playwright-core'));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); });
    srv.on('error', reject);
  });
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => { req.destroy(); resolve(0); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh run folder: user data, extensions, XDG dirs and a copy of the test workspace. */
function makeRunDir(kind) {
  const runs = path.join(CACHE, 'runs');
  fs.mkdirSync(runs, { recursive: true });
  // keep the last few runs for post-mortems, drop older ones
  const old = fs.readdirSync(runs).sort();
  for (const d of old.slice(0, Math.max(0, old.length - 4))) fs.rmSync(path.join(runs, d), { recursive: true, force: true });
  const dir = fs.mkdtempSync(path.join(runs, `${new Date().toISOString().replace(/[:.]/g, '-')}-${kind}-`));
  for (const d of ['ud/User', 'exts', 'xdg-config', 'xdg-data', 'chrome', 'ws']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  return dir;
}

/** The workspace the tests open: small fixtures plus a generated ~1 MB JavaScript file. */
function makeWorkspace(ws) {
  const src = path.join(__dirname, 'workspace');
  fs.cpSync(src, ws, { recursive: true });
  // ~1 MB of real code, cut at a line end: the first part of TypeScript's own compiler.
  const ts = fs.readFileSync(path.join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js'), 'utf8');
  let cut = ts.lastIndexOf('\n', 1_000_000);
  fs.writeFileSync(path.join(ws, 'large.js'), ts.slice(0, cut + 1));
  // the same text under another name: a file the engine has not read yet (summary timing)
  fs.writeFileSync(path.join(ws, 'large-unread.js'), ts.slice(0, cut + 1));
  // a minified bundle: ~200 KB of that code on one line
  fs.writeFileSync(path.join(ws, 'bundle.min.js'), ts.slice(0, 240_000).replace(/\s+/g, ' '));
}

function writeUserSettings(dir, extra) {
  const settings = {
    'files.autoSave': 'off',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'editor.inlineSuggest.enabled': true,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.parameterHints.enabled': false,
    'editor.minimap.enabled': false,
    'window.commandCenter': false,
    'chat.disableAIFeatures': true,
    'workbench.colorTheme': 'Dark Modern',
    // no empty secondary side bar (chat is off): the editor and the summary panel get the width
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.editor.useModal': 'off', // settings.json in a tab, as the UI run expects
    'git.enabled': false,
    'git.openRepositoryInParentFolders': 'never',
    'editor.stickyScroll.enabled': false,
    'workbench.editor.enablePreview': false,
    ...extra,
  };
  fs.writeFileSync(path.join(dir, 'ud', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  // code-server's window is remote: machine-scoped settings (the model, provider, CUDA path) are
  // read from the remote (Machine) settings only, not from the user's.
  const machine = Object.fromEntries(Object.entries(extra).filter(([k]) => k.startsWith('flowstate.')));
  fs.mkdirSync(path.join(dir, 'ud', 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ud', 'Machine', 'settings.json'), JSON.stringify(machine, null, 2));
}

/**
 * Starts code-server on 127.0.0.1 and resolves when /healthz answers. The smoke-test driver
 * (needed for the test payload) also hides notification toasts: the UI run starts without it.
 */
async function startCodeServer(dir, { log, smokeTestDriver = true } = {}) {
  const port = await freePort();
  const args = [CODE_SERVER,
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--user-data-dir', path.join(dir, 'ud'), '--extensions-dir', path.join(dir, 'exts'),
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override'];
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  // FLOWSTATE_LOG_LEVEL=trace: the extension's log channel at that level (every completion's timings)
  if (process.env.FLOWSTATE_LOG_LEVEL) args.push('--log', process.env.FLOWSTATE_LOG_LEVEL);
  const out = fs.openSync(path.join(dir, 'code-server.log'), 'a');
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), XDG_DATA_HOME: path.join(dir, 'xdg-data'),
    XDG_CACHE_HOME: path.join(dir, 'xdg-cache'), VSCODE_PROXY_URI: '' };
  const child = cp.spawn(NODE24, args, { env, stdio: ['ignore', out, out], detached: true });
  const t0 = Date.now();
  while (Date.now() - t0 < 30000) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${dir}/code-server.log`);
    if ((await get(`http://127.0.0.1:${port}/healthz`)) === 200) break;
    await sleep(100);
  }
  if (log) log(`code-server listening on 127.0.0.1:${port} after ${Date.now() - t0} ms`);
  return {
    port, child,
    stop() { try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ } },
  };
}

/** Installs a vsix into the run's extensions dir with code-server's own CLI. */
function installVsix(dir, vsix) {
  const env = { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), XDG_DATA_HOME: path.join(dir, 'xdg-data') };
  const r = cp.spawnSync(NODE24, [CODE_SERVER, '--user-data-dir', path.join(dir, 'ud'), '--extensions-dir', path.join(dir, 'exts'),
    '--install-extension', vsix, '--force'], { env, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`installing ${vsix} failed: ${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

async function launchBrowser(dir, { viewport } = {}) {
  const { chromium } = playwright();
  const context = await chromium.launchPersistentContext(path.join(dir, 'chrome'), {
    executablePath: CHROMIUM, headless: true, viewport: viewport || { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  return { browser: context, context, page };
}

function workbenchUrl(port, folder, payload) {
  let url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** The end of the extension's own log in a run dir (CI keeps only what is printed): on a failure. */
function printExtensionLog(dir, lines = 80, { match, prefix = '[harness]' } = {}) {
  const find = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { const f = find(p); if (f) return f; } else if (e.name === 'Flowstate.log') return p;
    }
    return undefined;
  };
  try {
    const file = find(path.join(dir, 'ud', 'logs'));
    if (!file) return;
    const tail = fs.readFileSync(file, 'utf8').trimEnd().split('\n').filter((l) => !match || match.test(l)).slice(-lines);
    console.log(`${prefix} the last ${tail.length} ${match ? 'matching ' : ''}lines of ${path.relative(dir, file)}:`);
    for (const l of tail) console.log(`  ${l.length > 400 ? l.slice(0, 400) + '...' : l}`);
  } catch (e) { console.log(`${prefix} no extension log: ${e.message}`); }
}

module.exports = { ROOT, CACHE, NODE24, CODE_SERVER, CHROMIUM, playwright, freePort, sleep, makeRunDir, makeWorkspace,
  writeUserSettings, startCodeServer, installVsix, launchBrowser, workbenchUrl, printExtensionLog, os };
