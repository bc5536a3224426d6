import * as assert from 'assert';
import * as vscode from 'vscode';
import { MAX_WINDOW_CHARS, OverlayRefresh } from '../../../src/features/overlay';
import { api, closeAll, openEditor, percentile, report, sleep, waitFor } from './helpers';

describe('attention overlay', function () {
  this.timeout(300000);
  after(async () => { await closeAll(); });

  it('decorates tokens in importance mode, then surprise mode, and the hover shows the numbers', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    const n0 = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    assert.strictEqual(a.overlay.modeOf(ed.document.uri), 'importance');
    const r = await waitFor('an importance refresh', () => a.overlay.refreshes.slice(n0).find((x) => x.fetched && x.decorated > 0));
    assert.ok(r.perLevel.every((n) => n >= 0) && r.perLevel.reduce((x, y) => x + y, 0) === r.decorated);
    assert.ok(r.perLevel[3] <= r.perLevel[0] + r.perLevel[1] + r.perLevel[2], 'fewer tokens in the top level');
    // hover on a banded token
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', ed.document.uri, new vscode.Position(7, 18));
    const text = hovers.map((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n')).join('\n');
    assert.match(text, /importance/);
    assert.match(text, /percentile in file/);
    assert.match(text, /\| \*\*importance\*\* \| [0-9.]+ \| \d+(st|nd|rd|th) \|/);
    // surprise mode
    const n1 = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('flowstate.switchOverlayMode');
    assert.strictEqual(a.overlay.modeOf(ed.document.uri), 'surprise');
    await waitFor('a surprise refresh', () => a.overlay.refreshes.slice(n1).find((x) => x.fetched && x.decorated > 0));
    const h2 = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', ed.document.uri, new vscode.Position(7, 18));
    const t2 = h2.map((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value)).join('\n')).join('\n');
    assert.match(t2, /\*\*surprise\*\* \| [0-9.]+ bits/);
    assert.match(t2, /The model expected: `[^`]*` [0-9.]+%/);
  });

  it('the toggle survives switching editors (per document)', async () => {
    const a = await api();
    const small = await openEditor('small.ts');
    assert.ok(a.overlay.modeOf(small.document.uri), 'still on for small.ts');
    const other = await openEditor('notes.md');
    assert.strictEqual(a.overlay.modeOf(other.document.uri), undefined, 'off for another file');
    const n0 = a.overlay.refreshes.length;
    const back = await openEditor('small.ts');
    assert.ok(a.overlay.modeOf(back.document.uri));
    await waitFor('a refresh when shown again', () => a.overlay.refreshes.slice(n0).find((x) => x.uri === back.document.uri.toString()));
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    assert.strictEqual(a.overlay.modeOf(back.document.uri), undefined);
  });

  it('follows scrolling in a 1 MB file: refresh time per screen', async () => {
    const a = await api();
    const ed = await openEditor('large.js');
    await a.engine.api!.read(ed.document.uri.toString());
    const n0 = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    await waitFor('first refresh', () => a.overlay.refreshes.slice(n0).find((x) => x.fetched));
    const times: number[] = [];
    const tokens: number[] = [];
    const lines = ed.document.lineCount;
    for (let i = 1; i <= 25; i++) {
      const line = Math.floor((lines * i) / 26);
      const k = a.overlay.refreshes.length;
      ed.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.AtTop);
      const r = await waitFor('a refresh after scrolling', () => a.overlay.refreshes.slice(k).find((x) => x.fetched), 10000, 2);
      times.push(r.ms);
      tokens.push(r.tokens);
      assert.ok(r.decorated > 0, 'decorated');
      await sleep(50);
    }
    // small scrolls stay inside the decorated margin: no work at all
    const k = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('editorScroll', { to: 'down', by: 'line', value: 3 });
    const small = await waitFor('a refresh after a small scroll', () => a.overlay.refreshes.slice(k)[0], 5000, 2);
    report(`overlay | large.js | scroll by a screen or more | n=${times.length} | p50 ${percentile(times, 0.5).toFixed(1)} ms | p95 ${percentile(times, 0.95).toFixed(1)} ms | ~${Math.round(percentile(tokens, 0.5))} tokens fetched per window (2 screens) | 3-line scroll: ${small.ms.toFixed(2)} ms, fetched=${small.fetched}`);
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
  });

  it('in a minified file (one line of ~200 KB) decorates the part around the cursor, and follows the cursor', async () => {
    const a = await api();
    const ed = await openEditor('bundle.min.js');
    const uri = ed.document.uri.toString();
    const len = ed.document.getText().length;
    assert.ok(ed.document.lineCount === 1 && len > 4 * MAX_WINDOW_CHARS, `${ed.document.lineCount} lines, ${len} characters`);
    const moveTo = (offset: number) => { const p = ed.document.positionAt(offset); ed.selection = new vscode.Selection(p, p); };
    const covers = (r: OverlayRefresh, offset: number) => !!r.span && r.span[0] <= offset && offset <= r.span[1] && r.span[1] - r.span[0] <= MAX_WINDOW_CHARS;
    const cursor = () => ed.document.offsetAt(ed.selection.active);
    // what the refreshes did, for a failure's message
    const seen = (n: number) => JSON.stringify(a.overlay.refreshes.slice(n).filter((x) => x.uri === uri).slice(-6).map((x) => [x.reason, x.fetched, x.tokens, x.decorated, x.span])) + ` cursor ${cursor()}`;
    moveTo(Math.floor(len * 0.6));
    const n0 = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    // around the cursor, wherever the editor has put it by then (it may restore a view state)
    const r = await waitFor('a refresh around the cursor', () => a.overlay.refreshes.slice(n0).find((x) => x.uri === uri && x.fetched && x.decorated > 0 && covers(x, cursor())), 120000)
      .catch((e: Error) => { throw new Error(`${e.message}: ${seen(n0)}`); });
    assert.ok(r.tokens > 0 && r.tokens <= MAX_WINDOW_CHARS, `${r.tokens} tokens fetched`);
    // the cursor goes a third of the line away: the window goes with it
    const back = (cursor() + Math.floor(len / 3)) % len;
    const n1 = a.overlay.refreshes.length;
    moveTo(back);
    await waitFor('a refresh around the moved cursor', () => a.overlay.refreshes.slice(n1).find((x) => x.uri === uri && x.fetched && x.decorated > 0 && covers(x, back)), 60000)
      .catch((e: Error) => { throw new Error(`${e.message}: ${seen(n1)}`); });
    // a refresh the move scheduled may come after the one that covered it (or have been folded into
    // one for reading progress): let whatever is waiting run
    await waitFor('the overlay to be idle', () => a.overlay.isIdle(ed), 10000);
    // a step of a few characters stays inside the window: the cursor fetches nothing (the reading
    // going on may still fill the window in: 'read progress')
    const n2 = a.overlay.refreshes.length;
    moveTo(back + 20);
    await sleep(400);
    assert.deepStrictEqual(a.overlay.refreshes.slice(n2).filter((x) => x.uri === uri && x.fetched && x.reason === 'cursor'), [], seen(n2));
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
  });

  it('follows edits without clearing the decorations', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    const k0 = a.overlay.refreshes.length;
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    await waitFor('refresh', () => a.overlay.refreshes.slice(k0).find((x) => x.uri === ed.document.uri.toString() && x.fetched && x.decorated > 0));
    const k = a.overlay.refreshes.length;
    await ed.edit((e) => e.insert(new vscode.Position(2, 0), '  // an added line\n'));
    const v = ed.document.version;
    const r = await waitFor('a refresh after the edit', () => a.overlay.refreshes.slice(k).find((x) => x.version === v && x.fetched));
    assert.ok(r.decorated > 0);
    await vscode.commands.executeCommand('flowstate.toggleOverlay');
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
