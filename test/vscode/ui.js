// UI run: installs the packaged vsix into a fresh code-server (clean user data and extensions),
// opens the workbench in Debian's Chromium and drives it like a person: status bar, ghost text
// (typed, accepted with Tab), the overlay in both modes with hovers, the summary panel and a
// click on one of its links, the status-bar menu, a light theme, the model-error notification.
// Takes a PNG of each into the screenshot folder and measures keystroke-to-ghost-text in the
// page itself (keydown to the ghost text being in the DOM).
//   node test/vscode/ui.js --vsix FILE [--shots DIR]
//   FLOWSTATE_LOG_LEVEL=trace ...: every completion's engine times in the exthost Flowstate.log
//   (whose end a failed step prints); not the default: code-server's --log sets the whole
//   workbench's level, and at trace the page's keystroke-to-ghost-text p50 went from 127 to 223 ms
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : dflt; };
const VSIX = opt('--vsix');
const SHOTS = opt('--shots', path.join(lib.CACHE, 'screenshots', 'ui'));
const T0 = Date.now();
const log = (m) => console.log(`[ui] ${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s  ${m}`);
const sleep = lib.sleep;

let passed = 0, failed = 0;
const measures = [];
let page;
let runDir;

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
    await describePage();
    lib.printExtensionLog(runDir, 25, { prefix: '[ui]' });
  }
}

/** What a failed step saw (CI keeps only the printed output, not the screenshots). */
async function describePage() {
  const d = await page.evaluate(() => {
    const text = (sel) => [...document.querySelectorAll(sel)].map((e) => (e.textContent || '').trim()).filter(Boolean).join(' | ');
    const active = document.activeElement;
    return {
      tab: text('.tabs-container .tab.active .label-name'),
      toasts: text('.notifications-toasts .notification-list-item-message'),
      suggestWidget: !!document.querySelector('.editor-widget.suggest-widget.visible'),
      focus: active ? `${active.tagName.toLowerCase()}.${String(active.className).split(' ').slice(0, 3).join('.')}` : '',
      ghost: text('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text-decoration-preview'),
    };
  }).catch((e) => ({ error: e.message }));
  log(`page: ${JSON.stringify({ ...d, status: (await statusText().catch(() => '')).slice(0, 300) })}`);
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
  const isOpen = async () => (await page.locator('.tabs-container .tab.active', { hasText: name }).count()) > 0;
  for (let i = 0; i < 3 && !(await isOpen()); i++) {
    await row.click(); // a busy workbench may drop a click: try again
    await until(`${name} open`, isOpen, 5000).catch(() => undefined);
  }
  await until(`${name} open`, isOpen, 10000);
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

/** A new line under small.ts's line 29, "function main() {", the cursor on it. */
async function newLineInMain() {
  await gotoLine(29);
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
}

/** The rendered text of the focused editor's cursor line (ghost text included where shown). */
async function cursorLineText() {
  return norm(await page.evaluate(() => {
    const cur = document.querySelector('.monaco-editor.focused .current-line');
    const y = cur ? cur.getBoundingClientRect().top : -1;
    const l = [...document.querySelectorAll('.monaco-editor.focused .view-line')].find((e) => Math.abs(e.getBoundingClientRect().top - y) < 2);
    return l ? l.textContent : '';
  }));
}

async function statusText() {
  return norm(await page.$$eval('.statusbar-item', (els) => els.map((e) => e.textContent || e.getAttribute('aria-label') || '').join(' | ')));
}

/** The status bar's text once it has stopped changing (after switching editors it catches up
 *  with the new editor a moment later; reading it earlier decided on the old editor's state). */
async function settledStatusText(quietMs = 800, maxMs = 6000) {
  const t0 = Date.now();
  let last = await statusText(), since = Date.now();
  while (Date.now() - since < quietMs && Date.now() - t0 < maxMs) {
    await sleep(100);
    const now = await statusText();
    if (now !== last) { last = now; since = Date.now(); }
  }
  return last;
}

async function cursorLine() {
  const t = await statusText();
  const m = /Ln (\d+), Col (\d+)/.exec(t);
  if (m) return Number(m[1]);
  // the status bar shows no position while a webview has focus: the editor's highlighted line number
  const n = await page.$$eval('.monaco-editor .margin-view-overlays .active-line-number', (els) => els.map((e) => e.textContent));
  return n.length === 1 ? Number(n[0]) : undefined;
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

/** The ghost text on the cursor's line only: its inline spans (one per coloured token) joined. */
async function ghostFirstLine() {
  return norm(await page.$$eval('.monaco-editor.focused .ghost-text-decoration, .monaco-editor.focused .ghost-text-decoration-preview',
    (els) => els.map((e) => e.textContent).join('')).catch(() => ''));
}

/**
 * Types text and waits for ghost text. When none shows, it types on with the characters of
 * `more`, as a person would, one at a time (a model may answer nothing worth showing at one
 * cursor); each miss prints what the page and the extension's log saw.
 */
async function typeForGhost(text, more = '') {
  let typed = text;
  await page.keyboard.type(text, { delay: 60 });
  for (let i = 0; ; i++) {
    const ghost = await until('ghost text', async () => { const g = await ghostText(); return g.trim() ? g : undefined; }, 10000).catch(() => undefined);
    if (ghost) return { ghost, typed };
    log(`no ghost text after typing ${JSON.stringify(typed)}`);
    await describePage();
    lib.printExtensionLog(runDir, 6, { match: /completion/, prefix: '[ui]' });
    if (i >= more.length) throw new Error(`timed out waiting for ghost text after typing ${JSON.stringify(typed)}`);
    await page.keyboard.type(more[i], { delay: 60 });
    typed += more[i];
  }
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

/** The (webview) frame that has selector, and for which test(frame) holds when given. */
function frameWith(selector, test, timeoutMs = 60000) {
  return until(`a frame with ${selector}`, async () => {
    for (const f of page.frames()) {
      const el = await f.$(selector).catch(() => null);
      if (el && (!test || await test(f).catch(() => false))) return f;
    }
    return undefined;
  }, timeoutMs, 200);
}

/** Changes user (or remote) settings the way a person does: settings.json in an editor tab, replaced and saved. */
async function editUserSettings(values, { remote = false } = {}) {
  const file = remote ? MACHINE_SETTINGS : SETTINGS;
  await command(remote ? 'Preferences: Open Remote Settings (JSON)' : 'Preferences: Open User Settings (JSON)');
  // a busy machine shows the tab long before its editor takes the focus: click into it then
  await until('settings.json in a focused editor', async () => {
    if ((await page.locator('.tabs-container .tab.active', { hasText: /settings\.json/ }).count()) === 0) return false;
    if (await page.evaluate(() => !!(document.activeElement && document.activeElement.closest('.monaco-editor')))) return true;
    await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click({ timeout: 1000 }).catch(() => undefined);
    return false;
  }, 45000, 250);
  await sleep(500);
  const next = { ...JSON.parse(fs.readFileSync(file, 'utf8')), ...values };
  for (const [k, v] of Object.entries(values)) if (v === undefined) delete next[k];
  await page.keyboard.press('Control+A');
  // one line (typed text is auto-indented), then drop what the editor auto-closed after the cursor
  await page.keyboard.insertText(JSON.stringify(next));
  await page.keyboard.press('Shift+Control+End');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Control+S');
  await until('settings.json saved', async () => { try { return JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8'))) === JSON.stringify(next); } catch { return false; } }, 10000, 100)
    .catch((e) => { throw new Error(`${e.message}: ${fs.readFileSync(file, 'utf8').slice(0, 400)}`); });
  // the file on disk is what we wanted; whatever the editor still marks as changed is dropped
  await command('File: Revert File');
  await sleep(300);
  await closeTab(/settings\.json/);
}

/** Closes an editor tab by its title (a middle click, as a person does). */
async function closeTab(title) {
  const tabs = page.locator('.tabs-container .tab', { hasText: title });
  // every tab of that title (a failed step before may have left one open too)
  await until(`tab ${title} closed`, async () => {
    if ((await tabs.count()) === 0) return true;
    await tabs.first().click({ button: 'middle', timeout: 2000 }).catch(() => undefined);
    // a "save changes?" dialog: the test saved what it needed already
    await page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" }).click({ timeout: 1000 }).catch(() => undefined);
    return (await tabs.count()) === 0;
  }, 15000, 300);
}
let SETTINGS, MACHINE_SETTINGS;

async function main() {
  if (!VSIX || !fs.existsSync(VSIX)) { console.error('usage: ui.js --vsix FILE'); process.exit(2); }
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const t0 = Date.now();
  const dir = lib.makeRunDir('ui');
  runDir = dir;
  const ws = path.join(dir, 'ws');
  lib.makeWorkspace(ws);
  // A clean VS Code: only the editor basics set, Flowstate's defaults untouched (bundled model).
  lib.writeUserSettings(dir, {});
  SETTINGS = path.join(dir, 'ud', 'User', 'settings.json');
  MACHINE_SETTINGS = path.join(dir, 'ud', 'Machine', 'settings.json');
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
      await newLineInMain();
      const { ghost, typed } = await typeForGhost('const p', 'at');
      const first = await ghostFirstLine();
      await shot('02-ghost-text');
      const lineBefore = norm(await page.textContent('.monaco-editor.focused .view-line:has(.ghost-text-decoration), .monaco-editor.focused .current-line ~ * .view-line').catch(() => ''));
      await page.keyboard.press('Tab');
      await sleep(300);
      const text = norm(await page.$$eval('.monaco-editor.focused .view-lines .view-line', (els) => els.map((e) => e.textContent).join('\n')));
      // the whole first line of the suggestion (all its coloured spans) follows what was typed
      if (first.trim() && !text.includes(typed + first)) throw new Error(`accepted text not found: ${JSON.stringify(typed + first)} (line before: ${JSON.stringify(lineBefore)})`);
      await shot('03-ghost-text-accepted');
      log(`ghost text was ${JSON.stringify(ghost)}; its first line ${JSON.stringify(first)}`);
      await revertFile();
    });

    await step('Ctrl+Right accepts the next word of the ghost text, the rest stays shown', async () => {
      await newLineInMain();
      const { ghost, typed: typedText } = await typeForGhost('console.log(pa', 'th');
      const first = await ghostFirstLine();
      // the line as the document has it: the ghost text hidden (Escape), the cursor's line read
      // once no ghost text is left on screen (on a loaded machine Escape can take longer than a
      // fixed pause, and a line read with the ghost still drawn holds the whole suggestion)
      const docLine = async () => {
        await page.keyboard.press('Escape');
        await until('the ghost text hidden after Escape', async () => {
          if (!(await ghostText())) return true;
          await page.keyboard.press('Escape');
          await sleep(250);
          return !(await ghostText());
        }, 10000, 100);
        return cursorLineText();
      };
      await page.keyboard.press('Control+ArrowRight');
      await sleep(300);
      await shot('03b-ghost-text-accept-word');
      const after = await docLine();
      const typed = '  ' + typedText;
      if (!after.startsWith(typed)) throw new Error(`line is ${JSON.stringify(after)}`);
      const added = after.slice(typed.length).replace(/\)$/, '');
      log(`ghost ${JSON.stringify(ghost)}; Ctrl+Right inserted ${JSON.stringify(added)}`);
      // the word begins the ghost text's first line (its coloured spans joined)
      if (!added || !first.startsWith(added)) {
        throw new Error(`Ctrl+Right inserted ${JSON.stringify(added)}, not a first word of the ghost text's first line ${JSON.stringify(first)}`);
      }
      await page.keyboard.press('Escape');
      await revertFile();
    });

    await step('with the suggestion list open, the ghost text continues its selected item; Enter on the item leaves the rest', async () => {
      await newLineInMain();
      await page.keyboard.type('const q = pa', { delay: 60 });
      const listOpen = () => page.evaluate(() => !!document.querySelector('.monaco-editor.focused .suggest-widget.visible'));
      const item = () => page.evaluate(() => {
        const row = document.querySelector('.monaco-editor.focused .suggest-widget.visible .monaco-list-row.focused .label-name');
        return row ? (row.textContent || '').trim() : '';
      });
      // the language server may still be starting ("Loading..."): ask again until the list has items
      await until('the suggestion list with a selected item', async () => {
        if (await item()) return true;
        if (!(await listOpen())) await page.keyboard.press('Control+Space');
        await sleep(1000);
        return !!(await item());
      }, 90000, 100);
      // ghost text beside the open list starts where the item ends
      const besideList = async () => {
        const g = await ghostText();
        return g.trim() && (await listOpen()) ? g : undefined;
      };
      let ghost = await until('ghost text beside the list', besideList, 10000).catch(() => undefined);
      if (!ghost) {
        // seen once in CI (of many runs; not reproduced here): the list open, no ghost text for
        // 20 s. Moving the selection away and back makes VS Code ask the provider again for the
        // same item; said in the log, so that a recurrence is visible
        log('no ghost text beside the list after 10 s: selection moved down and back up');
        await describePage();
        await page.keyboard.press('ArrowDown');
        await sleep(300);
        await page.keyboard.press('ArrowUp');
        ghost = await until('ghost text beside the list', besideList, 20000);
      }
      const label = await item();
      await shot('03c-ghost-text-with-suggestion-list');
      log(`list item ${JSON.stringify(label)}, ghost text beside it ${JSON.stringify(ghost)}`);
      await page.keyboard.press('Enter'); // the list takes the item
      // what is left of the ghost text shows at once (the cache), after the item
      const rest = await until('the rest as ghost text', async () => { const g = await ghostText(); return g.trim() && !(await listOpen()) ? g : undefined; }, 10000);
      const line = await cursorLineText();
      await shot('03d-ghost-text-after-list-item');
      log(`after Enter: line ${JSON.stringify(line)}, ghost text ${JSON.stringify(rest)}`);
      if (!line.includes(`const q = ${label}`)) throw new Error(`the item ${JSON.stringify(label)} is not on the line ${JSON.stringify(line)}`);
      // beside the list the editor shows the item's untyped part ("th" of "path") and then ours
      const squeeze = (t) => t.replace(/\s+/g, '');
      if (!label.startsWith('pa') || squeeze(ghost) !== squeeze(label.slice(2) + rest)) {
        throw new Error(`ghost text beside the list ${JSON.stringify(ghost)} is not the item ${JSON.stringify(label)} after "pa" and then the rest ${JSON.stringify(rest)}`);
      }
      await page.keyboard.press('Escape');
      await revertFile();
    });

    await step('keystroke-to-ghost-text latency, small file', async () => {
      await newLineInMain();
      await measureLatency('small.ts (1 KiB)', 30);
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
      await hoverUntil('distance', /percentile in file/, 'hover with numbers');
      await sleep(400); // the hover fades in
      await shot('05-overlay-hover-importance');
      await page.mouse.move(5, 5);
    });

    await step('overlay legend: the status bar item\'s tooltip shows the levels in the theme colours', async () => {
      await legendTooltip('05b-overlay-legend');
    });

    await step('overlay: surprise mode and a hover with the top predictions', async () => {
      await page.mouse.move(5, 5);
      await page.keyboard.press('Escape');
      await command('Flowstate: Switch Overlay Mode');
      await until('legend says Surprise', async () => /Surprise/.test(await statusText()), 10000);
      await sleep(500);
      await shot('06-overlay-surprise');
      await hoverUntil('distance', /The model expected/, 'hover with predictions');
      await sleep(400);
      await shot('07-overlay-hover-surprise');
      await page.mouse.move(5, 5);
    });

    await step('summary panel for a 1 MB file, with progress, and a link that jumps', async () => {
      await openFile('large.js');
      await command('Flowstate: Summarize File');
      await until('the reading progress notification', async () => /Flowstate: reading large\.js/.test(norm(await page.textContent('.notifications-toasts'))), 10000, 100)
        .catch(() => log('no progress notification seen (the file was read before it showed)'));
      await shot('08-summary-reading');
      const t0 = Date.now();
      // a 10M-parameter model reads a 1 MB file in minutes on 2 cores
      const f = await frameWith('#lines li a.ln', undefined, 900000);
      const seen = Date.now() - t0;
      await sleep(500);
      await shot('09-summary-panel');
      const stats = norm(await f.textContent('#stats'));
      log(`summary stats: ${stats}`);
      const load = require('os').loadavg()[0].toFixed(1);
      measures.push(`summary panel (browser) | large.js (${stats.match(/size([^,]+)/)?.[1]?.trim() ?? '?'}) | n=1 | ${stats.replace(/^.*?reading/, 'reading ').replace(/model.*$/, '').trim()} | command to panel ${(seen / 1000).toFixed(1)} s | load ${load}`);
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

    await step('summary of an unread 1 MB file shows progress and can be cancelled', async () => {
      await openFile('large-unread.js');
      const reading = async () => /Flowstate: reading large-unread\.js/.test(norm(await page.textContent('.notifications-toasts')));
      const tCommand = Date.now();
      await command('Flowstate: Summarize File');
      if (!(await until('the reading progress notification', reading, 15000, 100).catch(() => false))) {
        // seen once on CI, not reproduced: say what the page showed, then ask once more as a person would
        log('no reading notification 15 s after the command: once more');
        await describePage();
        await openFile('large-unread.js');
        await command('Flowstate: Summarize File');
        await until('the reading progress notification (second command)', reading, 20000, 100);
      }
      const tNotified = Date.now();
      const f = await frameWith('#status', async (fr) => /Reading/.test(await fr.textContent('#status')));
      const tPanel = Date.now();
      await until('the progress bar in the panel', async () => f.evaluate(() => !document.getElementById('progress').hidden), 15000, 100);
      log(`command to notification ${tNotified - tCommand} ms, to the panel reading ${tPanel - tCommand} ms, to its progress bar ${Date.now() - tCommand} ms`);
      await sleep(1500);
      await shot('09b-summary-progress');
      await page.click('.notifications-toasts .monaco-button:has-text("Cancel")');
      await until('the panel says cancelled', async () => /Cancelled/.test(await f.textContent('#status')), 15000, 100);
      await shot('09c-summary-cancelled');
      // close the unread file and its panel (its background reading would compete with the next
      // steps); large.js stays open: closing it would drop what the engine has read of it
      for (const title of ['Summary: large-unread.js', 'large-unread.js']) await closeTab(title);
      await openFile('large.js');
    });

    await step('overlay follows scrolling in the 1 MB file', async () => {
      await openFile('large.js');
      await page.keyboard.press('Control+Alt+O');
      await until('legend in the status bar', async () => /Importance/.test(await statusText()), 10000);
      await gotoLine(9000);
      await page.keyboard.press('Home');
      const sel = '.monaco-editor .view-overlays [class*="TextEditorDecorationType"], .monaco-editor .view-lines [class*="TextEditorDecorationType"], .monaco-editor [class*="ced-"]';
      await until('overlay decorations at line 9000', async () => (await page.$$(sel)).length > 10, 20000);
      for (let i = 0; i < 3; i++) { await page.keyboard.press('PageDown'); await sleep(150); }
      await until('overlay decorations after paging down', async () => (await page.$$(sel)).length > 10, 10000);
      await sleep(300);
      await shot('10b-overlay-large-file-scrolled');
      await page.keyboard.press('Control+Alt+O');
      await until('legend gone', async () => !/Importance ▁/.test(await statusText()), 10000);
    });

    await step('keystroke-to-ghost-text latency, 1 MB file', async () => {
      await openFile('large.js');
      await gotoLine(9000);
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await measureLatency('large.js (977 KiB), line 9000 of 12768', 30);
      await shot('11-ghost-text-large-file');
      await page.keyboard.press('Escape');
      await revertFile();
      // the edits made the engine read the file again from line 9000 on (both cores for a while):
      // the next steps start once it has (the status bar shows the reading's percentage meanwhile)
      const t = Date.now();
      await until('the re-reading of large.js to end', async () => !/Flowstate (CPU|CUDA)\s*\S*\s*\d+%/.test(await statusText()), 240000, 500);
      log(`re-reading after the edits ended ${((Date.now() - t) / 1000).toFixed(1)} s after the revert`);
    });

    await step('status bar menu', async () => {
      await page.keyboard.press('Escape');
      await page.locator('.statusbar-item', { hasText: /Flowstate (CPU|CUDA)/ }).first().click();
      await until('the menu', async () => /Inline completions/.test(norm(await page.textContent('.quick-input-widget'))), 10000);
      await sleep(400); // the quick pick fades in
      await shot('12-status-menu');
      await page.keyboard.press('Escape');
    });

    await step('light theme: overlay and summary read in light colours', async () => {
      await editUserSettings({ 'workbench.colorTheme': 'Light Modern' });
      await until('light theme', async () => page.evaluate(() => document.querySelector('.monaco-workbench').classList.contains('vs')), 15000, 200);
      await openFile('small.ts');
      // the overlay in surprise mode, whatever the steps before left (read once the status bar
      // shows small.ts's state: a toggle decided on the previous editor's state turned it off)
      if (!/(Importance|Surprise) ▁/.test(await settledStatusText())) await page.keyboard.press('Control+Alt+O');
      await until('legend', async () => /(Importance|Surprise) ▁/.test(await settledStatusText()), 10000);
      if (/Importance ▁/.test(await statusText())) await command('Flowstate: Switch Overlay Mode');
      await until('legend says Surprise', async () => /Surprise ▁/.test(await settledStatusText()), 10000);
      await sleep(800);
      await shot('13-light-overlay-surprise');
      await hoverUntil('distance', /The model expected/, 'hover with predictions');
      await sleep(400);
      await shot('13b-light-hover-surprise');
      await page.mouse.move(5, 5);
      await page.keyboard.press('Escape');
      await command('Flowstate: Switch Overlay Mode');
      await until('legend says Importance', async () => /Importance/.test(await statusText()), 10000);
      await sleep(800);
      await shot('13c-light-overlay-importance');
      await legendTooltip('13d-light-legend');
      await command('Flowstate: Summarize File');
      await frameWith('#lines li a.ln');
      await sleep(1500);
      await shot('14-light-summary');
    });

    await step('a model that cannot load gives a notification with actions', async () => {
      // the model path is machine-scoped: in this remote window it lives in the remote settings
      await editUserSettings({ 'flowstate.modelPath': '/nonexistent/model' }, { remote: true });
      await until('error notification', async () => /could not load the model/.test(norm(await page.textContent('.notifications-toasts, .notification-toast-container').catch(() => ''))), 30000, 200)
        .catch(async () => {
          await page.click('.statusbar-item[id*="notifications"], .codicon-bell, .codicon-bell-dot').catch(() => {});
          await until('error notification in the center', async () => /could not load the model/.test(norm(await page.textContent('.notifications-center'))), 10000, 200);
        });
      await sleep(800); // the toast slides in
      await shot('15-model-error');
      await editUserSettings({ 'flowstate.modelPath': undefined }, { remote: true });
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

/** Hovers the overlay legend in the status bar and takes a screenshot of its tooltip. */
async function legendTooltip(name) {
  const item = page.locator('.statusbar-item:has-text("▁▃▅▇")').first();
  await item.hover();
  await until('the legend tooltip', async () => /level 4/.test(norm(await page.textContent('.monaco-hover:not(.hidden), .workbench-hover-container').catch(() => ''))), 10000, 100);
  await sleep(400);
  await shot(name);
  await page.mouse.move(5, 5);
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

/** Hovers a word until the hover's text matches re (a busy machine may miss the first hover). */
async function hoverUntil(word, re, what) {
  for (let i = 0; i < 4; i++) {
    await page.mouse.move(5, 5);
    await sleep(200);
    await hoverToken(word);
    const ok = await until(what, async () => re.test(norm(await page.textContent('.monaco-hover:not(.hidden)'))), 8000, 100).catch(() => false);
    if (ok) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

main();
