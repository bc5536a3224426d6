// UI run: installs the packaged vsix into a fresh code-server (clean user data and extensions),
// opens the workbench in Debian's Chromium and drives it like a person: status bar, ghost text
// (typed, accepted with Tab), the overlay in both modes with hovers, the summary panel and a
// click on one of its links, the status-bar menu, a light theme, the model-error notification.
// Takes a PNG of each into the screenshot folder and measures keystroke-to-ghost-text in the
// page itself (keydown to the ghost text being in the DOM).
//   node test/vscode/ui.js --vsix FILE [--shots DIR]
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const VSIX = opt('--vsix');
const SHOTS = opt('--shots', path.join(lib.CACHE, 'screenshots', 'ui'));
const log = (m) => console.log(`[ui] ${m}`);
const sleep = lib.sleep;

let passed = 0, failed = 0;
const measures = [];
let page;

async function shot(name) {
  const f = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: f });
  log(`screenshot ${f}`);
  return f;
}

const ONLY = process.env.FLOWSTATE_UI_ONLY ? new RegExp(process.env.FLOWSTATE_UI_ONLY, 'i') : undefined;
async function step(name, fn) {
  if (ONLY && !ONLY.test(name) && !/^workbench/.test(name)) return;
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    log(`✔ ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    log(`✘ ${name}: ${e && e.message || e}`);
    await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
  }
}

async function until(what, f, timeoutMs = 20000, every = 50) {
  const t0 = Date.now();
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

const norm = (s) => (s || '').replace(/\u00a0/g, ' ');

async function command(title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+Shift+P');
  await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', { timeout: 10000 });
  await page.keyboard.type(title, { delay: 5 });
  await until(`command "${title}" in the palette`, async () => {
    const labels = await page.$$eval('.quick-input-list .monaco-list-row', (rows) => rows.map((r) => r.textContent || ''));
    return labels.some((l) => l.includes(title.replace(/^>\s*/, '')));
  }, 10000);
  await page.keyboard.press('Enter');
}

async function openFile(name) {
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  // The Explorer is the most reliable way in: click the file's row.
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"], .explorer-folders-view .monaco-list-row:has-text("${name}")`).first();
  await row.click();
  await until(`${name} open`, async () => norm(await page.textContent('.tabs-container .tab.active')).includes(name), 15000);
  await sleep(300);
  // focus the editor
  await page.keyboard.press('Control+1');
}

async function revertFile() {
  await command('File: Revert File');
  await sleep(300);
  await page.keyboard.press('Control+Home');
}

async function gotoLine(line) {
  await page.keyboard.press('Control+G');
  await page.waitForSelector('.quick-input-widget:not([style*="display: none"]) input', { timeout: 10000 });
  await page.keyboard.type(String(line));
  await page.keyboard.press('Enter');
  await sleep(200);
  await page.keyboard.press('End');
}

async function statusText() {
  return norm(await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || e.getAttribute('aria-label') || '').join(' | ')));
}

async function cursorLine() {
  const t = await statusText();
  const m = /Ln (\d+), Col (\d+)/.exec(t);
  return m ? Number(m[1]) : undefined;
}

/** Installs keydown and ghost-text observers in the page. */
async function installProbe() {
  await page.evaluate(() => {
    const w = window;
    if (w.__fs) return;
    w.__fs = { key: 0, ghost: 0 };
    window.addEventListener('keydown', () => { w.__fs.key = performance.now(); w.__fs.ghost = 0; }, true);
    const has = () => !!document.querySelector('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text, .monaco-editor.focused .ghost-text-decoration-preview');
    new MutationObserver(() => {
      if (w.__fs.key && !w.__fs.ghost && has()) w.__fs.ghost = performance.now();
    }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
  });
}

async function ghostText() {
  return norm(await page.$$eval('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text-decoration-preview, .monaco-editor.focused .ghost-text .view-line',
    (els) => els.map((e) => e.textContent).join('\n')).catch(() => ''));
}

/** Keystroke-to-ghost-text latency in the page: Escape (no ghost text), a key, time to the ghost text. */
async function measureLatency(label, n) {
  await installProbe();
  const lat = [];
  const chars = 'abcdefghijklmnopqrstuvwxyz';
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Escape');
    await sleep(350);
    await page.keyboard.press(chars[i % chars.length]);
    const t = await until('ghost text', async () => {
      const s = await page.evaluate(() => window.__fs);
      return s.ghost ? s.ghost - s.key : undefined;
    }, 5000, 5).catch(() => undefined);
    if (t !== undefined) lat.push(t);
  }
  const s = [...lat].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  const load = require('os').loadavg()[0].toFixed(1);
  measures.push(`keystroke → ghost text (browser) | ${label} | n=${lat.length}/${n} | p50 ${q(0.5).toFixed(0)} ms | p95 ${q(0.95).toFixed(0)} ms | load ${load}`);
  return lat;
}

function frameWith(selector) {
  return until(`a frame with ${selector}`, async () => {
    for (const f of page.frames()) {
      const el = await f.$(selector).catch(() => null);
      if (el) return f;
    }
    return undefined;
  }, 60000, 200);
}

/** Changes user settings the way a person does: in settings.json, in the editor, saved. */
async function editUserSettings(values) {
  await command('Preferences: Open User Settings (JSON)');
  await until('settings.json open', async () => norm(await page.textContent('.tabs-container .tab.active')).includes('settings.json'), 10000);
  await sleep(500);
  // The file on disk is what the editor shows (the run's settings, saved by VS Code itself).
  const next = { ...JSON.parse(fs.readFileSync(SETTINGS, 'utf8')), ...values };
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(JSON.stringify(next, null, 2));
  await page.keyboard.press('Control+S');
  await sleep(500);
  await page.keyboard.press('Control+W');
}
let SETTINGS;

async function main() {
  if (!VSIX || !fs.existsSync(VSIX)) { console.error('usage: ui.js --vsix FILE'); process.exit(2); }
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const t0 = Date.now();
  const dir = lib.makeRunDir('ui');
  const ws = path.join(dir, 'ws');
  lib.makeWorkspace(ws);
  // A clean VS Code: only the editor basics set, Flowstate's defaults untouched (bundled model).
  lib.writeUserSettings(dir, {});
  SETTINGS = path.join(dir, 'ud', 'User', 'settings.json');
  log(`run dir ${dir}`);
  log(lib.installVsix(dir, VSIX).split('\n').pop());
  const server = await lib.startCodeServer(dir, { log, smokeTestDriver: false });
  const b = await lib.launchBrowser(dir, { viewport: { width: 1500, height: 900 } });
  page = b.page;
  try {
    await page.goto(lib.workbenchUrl(server.port, ws));
    await step('workbench and the installed extension start; status bar shows the provider', async () => {
      await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
      await until('Flowstate CPU in the status bar', async () => /Flowstate (CPU|CUDA)/.test(await statusText()), 90000, 200);
      await openFile('small.ts');
      await shot('01-status-bar');
    });

    await step('ghost text appears after typing and Tab inserts exactly it', async () => {
      await gotoLine(29); // "function main() {"
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await page.keyboard.type('const p', { delay: 60 });
      const ghost = await until('ghost text', async () => { const g = await ghostText(); return g.trim() ? g : undefined; }, 20000);
      await shot('02-ghost-text');
      const lineBefore = norm(await page.textContent('.monaco-editor.focused .view-line:has(.ghost-text-decoration), .monaco-editor.focused .current-line ~ * .view-line').catch(() => ''));
      await page.keyboard.press('Tab');
      await sleep(300);
      const text = norm(await page.$$eval('.monaco-editor.focused .view-lines .view-line', (els) => els.map((e) => e.textContent).join('\n')));
      const first = ghost.split('\n')[0];
      if (first.trim() && !text.includes('const p' + first)) throw new Error(`accepted text not found: ${JSON.stringify('const p' + first)} (line before: ${JSON.stringify(lineBefore)})`);
      await shot('03-ghost-text-accepted');
      log(`ghost text was ${JSON.stringify(ghost)}`);
      await revertFile();
    });

    await step('keystroke-to-ghost-text latency, small file', async () => {
      await gotoLine(29);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await measureLatency('small.ts (1 KiB)', 20);
      await page.keyboard.press('Escape');
      await revertFile();
    });

    await step('overlay: importance bands and a hover with the numbers', async () => {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('Control+Alt+O');
      const sel = '.monaco-editor .view-overlays [class*="TextEditorDecorationType"], .monaco-editor .view-lines [class*="TextEditorDecorationType"], .monaco-editor [class*="ced-"]';
      await until('overlay decorations', async () => (await page.$$(sel)).length > 10, 20000);
      await until('legend in the status bar', async () => /Importance/.test(await statusText()), 5000);
      await shot('04-overlay-importance');
      // hover over a token on line 8 ("const dx = a.x - b.x;")
      await hoverToken('distance');
      await until('hover with numbers', async () => /percentile in file/.test(norm(await page.textContent('.monaco-hover:not(.hidden)'))), 15000, 100);
      await shot('05-overlay-hover-importance');
    });

    await step('overlay: surprise mode and a hover with the top predictions', async () => {
      await page.mouse.move(5, 5);
      await page.keyboard.press('Escape');
      await command('Flowstate: Switch Overlay Mode');
      await until('legend says Surprise', async () => /Surprise/.test(await statusText()), 10000);
      await sleep(500);
      await shot('06-overlay-surprise');
      await hoverToken('distance');
      await until('hover with predictions', async () => /The model expected/.test(norm(await page.textContent('.monaco-hover:not(.hidden)'))), 15000, 100);
      await shot('07-overlay-hover-surprise');
      await page.mouse.move(5, 5);
    });

    await step('summary panel for a 1 MB file, with progress, and a link that jumps', async () => {
      await openFile('large.js');
      await command('Flowstate: Summarize File');
      await until('the reading progress notification', async () => /Flowstate: reading large\.js/.test(norm(await page.textContent('.notifications-toasts'))), 10000, 100)
        .catch(() => log('no progress notification seen (the file was read before it showed)'));
      await shot('08-summary-reading');
      const f = await frameWith('#lines li a.ln');
      await sleep(500);
      await shot('09-summary-panel');
      const links = await f.$$('#lines li a.ln');
      const link = links[Math.floor(links.length / 2)];
      const target = Number(await link.getAttribute('data-line')) + 1;
      await link.click();
      await until(`cursor at line ${target}`, async () => (await cursorLine()) === target, 10000, 100);
      await sleep(400);
      await shot('10-summary-link-jumped');
      // and a click on the plot
      const svg = await f.$('#plotsvg');
      const box = await svg.boundingBox();
      await page.mouse.click(box.x + box.width * 0.25, box.y + box.height / 2);
      const l = await until('cursor moved by the plot', async () => { const c = await cursorLine(); return c && c !== target ? c : undefined; }, 10000, 100);
      log(`plot click at 25% jumped to line ${l}`);
    });

    await step('keystroke-to-ghost-text latency, 1 MB file', async () => {
      await openFile('large.js');
      await gotoLine(20000);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await measureLatency('large.js (977 KiB), line 20000', 20);
      await shot('11-ghost-text-large-file');
      await page.keyboard.press('Escape');
      await revertFile();
    });

    await step('status bar menu', async () => {
      await page.keyboard.press('Escape');
      await page.click('.statusbar-item[id*="flowstate.status"], .statusbar-item:has-text("Flowstate")');
      await until('the menu', async () => /Inline completions/.test(norm(await page.textContent('.quick-input-widget'))), 10000);
      await shot('12-status-menu');
      await page.keyboard.press('Escape');
    });

    await step('light theme: overlay and summary read in light colours', async () => {
      await editUserSettings({ 'workbench.colorTheme': 'Default Light Modern' });
      await until('light theme', async () => page.evaluate(() => document.querySelector('.monaco-workbench').classList.contains('vs')), 15000, 200);
      await openFile('small.ts');
      await sleep(800);
      await shot('13-light-overlay');
      await command('Flowstate: Summarize File');
      await frameWith('#lines li a.ln');
      await sleep(1500);
      await shot('14-light-summary');
    });

    await step('a model that cannot load gives a notification with actions', async () => {
      await editUserSettings({ 'flowstate.modelPath': '/nonexistent/model' });
      await until('error notification', async () => /could not load the model/.test(norm(await page.textContent('.notifications-toasts, .notification-toast-container').catch(() => ''))), 30000, 200)
        .catch(async () => {
          await page.click('.statusbar-item[id*="notifications"], .codicon-bell, .codicon-bell-dot').catch(() => {});
          await until('error notification in the center', async () => /could not load the model/.test(norm(await page.textContent('.notifications-center'))), 10000, 200);
        });
      await shot('15-model-error');
      await editUserSettings({ 'flowstate.modelPath': '' });
      await until('model back', async () => /Flowstate (CPU|CUDA)/.test(await statusText()), 60000, 200);
    });
  } catch (e) {
    failed++;
    log(`error: ${e && e.stack || e}`);
  } finally {
    await b.browser.close().catch(() => {});
    server.stop();
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${SHOTS}; logs under ${dir}`);
  if (measures.length) {
    console.log('\n| measure | file | n | p50 | p95 | load |\n|---|---|---|---|---|---|');
    for (const m of measures) console.log(`| ${m} |`);
    console.log('');
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

/** Moves the mouse over the first rendered occurrence of a word in the focused editor. */
async function hoverToken(word) {
  const box = await page.evaluate((w) => {
    const spans = [...document.querySelectorAll('.monaco-editor .view-lines .view-line span span')];
    const s = spans.find((e) => (e.textContent || '').includes(w));
    if (!s) return undefined;
    const r = s.getBoundingClientRect();
    return { x: r.left + Math.min(r.width / 2, 12), y: r.top + r.height / 2 };
  }, word);
  if (!box) throw new Error(`no "${word}" on screen`);
  await page.mouse.move(box.x - 30, box.y);
  await page.mouse.move(box.x, box.y, { steps: 4 });
}

main();
