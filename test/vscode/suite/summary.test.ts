import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, closeAll, openEditor, report, revert, waitFor } from './helpers';

describe('summarize file', function () {
  this.timeout(600000);
  after(async () => { await closeAll(); });

  it('opens a panel for a large file with key lines, a profile, symbols and bits per byte', async () => {
    const a = await api();
    const ed = await openEditor('large-unread.js');
    const t0 = Date.now();
    await vscode.commands.executeCommand('flowstate.summarizeFile');
    const data = await waitFor('summary data', () => a.summary.dataFor(ed.document.uri), 600000, 100);
    const ms = Date.now() - t0;
    assert.ok(a.summary.panelFor(ed.document.uri), 'panel');
    assert.ok(data.summary.lines.length >= 3, 'key lines');
    const lines = data.summary.lines.map((l) => l.line);
    assert.deepStrictEqual(lines, [...lines].sort((x, y) => x - y), 'key lines in file order');
    assert.strictEqual(new Set(lines).size, lines.length, 'no duplicate lines');
    // a line's text, or for a long line (over 1,000 characters) the piece at its column
    for (const l of data.summary.lines) {
      const line = ed.document.lineAt(l.line).text;
      assert.strictEqual(l.text.trim(), (l.column === undefined ? line : line.slice(l.column, l.column + l.text.length)).trim(), `line ${l.line} text`);
    }
    assert.ok(data.summary.profile.length > 5, 'profile');
    assert.ok(Number.isFinite(data.summary.bitsPerByte) && data.summary.bitsPerByte > 0, 'bits per byte');
    report(`summary | large-unread.js (not read before) | ${(data.bytes / 1024).toFixed(0)} KiB | ${data.summary.tokens} tokens | waited for reading ${data.msRead} ms | command to panel data ${ms} ms | ${data.symbols.length} symbols`);
  });

  it('a key-line link jumps to its line', async () => {
    const a = await api();
    const uri = (await openEditor('large-unread.js')).document.uri;
    const data = a.summary.dataFor(uri)!;
    const target = data.summary.lines[Math.floor(data.summary.lines.length / 2)].line;
    // The webview posts {type:'reveal', line}; the UI run clicks the real link in the page.
    await (a.summary as any).onMessage((a.summary as any).panels.get(uri.toString()), { type: 'reveal', line: target });
    const ed = await waitFor('the editor at the line', () => {
      const e = vscode.window.activeTextEditor;
      return e && e.document.uri.toString() === uri.toString() && e.selection.active.line === target ? e : undefined;
    });
    await waitFor('the line to be visible', () => ed.visibleRanges.some((r) => r.contains(new vscode.Position(target, 0))), 5000);
  });

  it('updates when the file changes', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    await vscode.commands.executeCommand('flowstate.summarizeFile');
    const first = await waitFor('summary of small.ts', () => a.summary.dataFor(ed.document.uri), 60000, 50);
    const marker = 'export const updatedByTheTest = 42;';
    await ed.edit((e) => e.insert(new vscode.Position(ed.document.lineCount - 1, 0), `${marker}\n`));
    const v = ed.document.version;
    const next = await waitFor('a summary of the edited text', () => {
      const d = a.summary.dataFor(ed.document.uri);
      return d && d.summary.version === v ? d : undefined;
    }, 30000, 50);
    assert.ok(next.lineCount === first.lineCount + 1, `line count ${first.lineCount} -> ${next.lineCount}`);
    assert.ok(next.bytes > first.bytes);
    await revert(ed);
  });
});
