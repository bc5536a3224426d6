import * as assert from 'assert';
import * as vscode from 'vscode';
import { CompletionTiming, cutShort, shapeCompletion } from '../../../src/features/completions';
import { completionSettings } from '../../../src/features/config';
import { api, closeAll, openEditor, percentile, report, revert, sleep, waitFor } from './helpers';

async function typeText(text: string) {
  for (const ch of text) await vscode.commands.executeCommand('type', { text: ch });
}

/** The completion offered for the text as typed (a slower machine may still answer an earlier keystroke after the typing ends). */
async function completionForTyped(a: Awaited<ReturnType<typeof api>>, ed: vscode.TextEditor, since: number) {
  return waitFor('a completion for the last keystroke', () => {
    const r = a.completions.events.lastResult;
    return r && r.at >= since && r.uri === ed.document.uri.toString() && r.version === ed.document.version ? r : undefined;
  }, 30000);
}

/** A new line under small.ts's "function main() {", the cursor on it. */
async function newLineInMain(ed: vscode.TextEditor) {
  cursorAtLineEnd(ed, /^function main\(\) \{$/);
  await vscode.commands.executeCommand('editor.action.insertLineAfter');
}

/** Puts the cursor at the end of the first line matching re. */
function cursorAtLineEnd(ed: vscode.TextEditor, re: RegExp): vscode.Position {
  for (let l = 0; l < ed.document.lineCount; l++) {
    const t = ed.document.lineAt(l).text;
    if (re.test(t)) {
      const p = new vscode.Position(l, t.length);
      ed.selection = new vscode.Selection(p, p);
      ed.revealRange(new vscode.Range(p, p), vscode.TextEditorRevealType.InCenter);
      return p;
    }
  }
  throw new Error(`no line matches ${re}`);
}

describe('inline completions', function () {
  this.timeout(180000);
  afterEach(async () => { await closeAll(); });

  it('ghost text appears after typing; accepting inserts exactly it', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    a.completions.clearCache();
    await newLineInMain(ed);
    const before = ed.document.getText();
    const since = Date.now();
    await typeText('  const p');
    const got = await completionForTyped(a, ed, since);
    const pos = ed.selection.active;
    const offset = ed.document.offsetAt(pos);
    const textBefore = ed.document.getText();
    // Accepting works only when the ghost text is really shown in the editor. The suggestion
    // may change meanwhile (a longer answer after a pause): what is inserted is one of those offered.
    let inserted = '';
    const offered = new Set<string>([got.text]);
    await waitFor('the ghost text to be accepted', async () => {
      offered.add(a.completions.events.lastResult!.text);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      if (ed.document.getText() !== textBefore) return true;
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await sleep(100);
      return false;
    }, 15000, 50);
    const after = ed.document.getText();
    inserted = after.slice(offset, offset + (after.length - textBefore.length));
    assert.ok(after.startsWith(textBefore.slice(0, offset)), 'text before the cursor unchanged');
    assert.ok(offered.has(inserted), `inserted ${JSON.stringify(inserted)}, offered ${JSON.stringify([...offered])}`);
    assert.ok(before.length < after.length);
    await revert(ed);
  });

  it('typing through the ghost text keeps it (no new engine request) and the cache answers a re-trigger', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    a.completions.clearCache();
    await newLineInMain(ed);
    const since = Date.now();
    await typeText('  path.a');
    const got = await completionForTyped(a, ed, since);
    const suggestion = got.text;
    assert.ok(suggestion.length >= 2, `suggestion ${JSON.stringify(suggestion)}`);
    const startOffset = ed.document.offsetAt(ed.selection.active);
    const n0 = a.completions.events.timings.filter((x) => !x.cached).length;
    await typeText(suggestion[0]);
    // VS Code asks the provider again on a manual trigger: the cache answers with the rest.
    const k = a.completions.events.timings.length;
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    const t = await waitFor('a cached answer', () => a.completions.events.timings.slice(k).find((x) => x.cached), 10000);
    assert.strictEqual(t.chars, suggestion.length - 1);
    assert.strictEqual(a.completions.events.timings.filter((x) => !x.cached).length, n0, 'no new engine request while typing through');
    // and accepting inserts the remainder: the whole suggestion is in the text
    const before = ed.document.getText();
    await waitFor('accept', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      return ed.document.getText() !== before;
    }, 10000, 100);
    assert.strictEqual(ed.document.getText().slice(startOffset, startOffset + suggestion.length), suggestion);
  });

  it('accept-word and accept-line take the ghost text piece by piece', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    a.completions.clearCache();
    await newLineInMain(ed);
    const since = Date.now();
    await typeText('  console.log(pa');
    const start = ed.document.offsetAt(ed.selection.active);
    const got = await completionForTyped(a, ed, since);
    const suggestion = got.text;
    const inserted = () => ed.document.getText().slice(start, ed.document.offsetAt(ed.selection.active));
    // accept the next word: retried until VS Code shows the ghost text (it renders asynchronously)
    await waitFor('accept-word to insert', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
      if (inserted().length > 0) return true;
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await sleep(100);
      return false;
    }, 15000, 50);
    const word = inserted();
    assert.ok(suggestion.startsWith(word), `accepted word ${JSON.stringify(word)} is the start of ${JSON.stringify(suggestion)}`);
    assert.ok(word.length < suggestion.length || !/\W\w/.test(suggestion.trim()), `one word of ${JSON.stringify(suggestion)}, not all: ${JSON.stringify(word)}`);
    if (word.length < suggestion.length) {
      // the rest stays offered (VS Code keeps it or our typing-through cache answers), and accept-line takes it up to the line end
      await waitFor('accept-line to insert more', async () => {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextLine');
        if (inserted().length > word.length) return true;
        await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
        await sleep(100);
        return false;
      }, 15000, 50);
      const line = inserted();
      assert.ok(suggestion.startsWith(line), `accepted line ${JSON.stringify(line)} is the start of ${JSON.stringify(suggestion)}`);
      assert.strictEqual(line, suggestion.split('\n')[0].length > word.length ? suggestion.split('\n')[0] : line, 'accept-line stops at the end of the first line');
    }
    await revert(ed);
  });

  it('a burst of keystrokes makes few engine requests', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    a.completions.clearCache();
    await newLineInMain(ed);
    await sleep(400);
    const r0 = a.completions.events.requests;
    const since = Date.now();
    await typeText('  const total = path');
    const got = await completionForTyped(a, ed, since);
    const made = a.completions.events.requests - r0;
    assert.ok(made >= 1 && made <= 8, `${made} engine requests for 20 keystrokes typed in a burst`);
    assert.ok(got.text.length > 0);
    await revert(ed);
  });

  it('typing on cancels the request in flight', async () => {
    const a = await api();
    // A slow request: a block of 1,500 new lines pasted above the cursor (~30k tokens the state at the
    // cursor must read first), then 200 lines of fill-in-the-middle suffix (~1,000 tokens). A typed
    // letter with only the suffix to read was not enough on a fast CPU: the tiny model answered it
    // before VS Code passed the next keystroke on.
    const ed = await openEditor('large.js');
    const line = 400;
    const p = new vscode.Position(line, ed.document.lineAt(line).text.length);
    ed.selection = new vscode.Selection(p, p);
    await vscode.commands.executeCommand('editor.action.insertLineAfter');
    await a.engine.api!.read(ed.document.uri.toString(), ed.document.offsetAt(ed.selection.active));
    const cfg = vscode.workspace.getConfiguration('flowstate');
    await cfg.update('completions.suffixLines', 200, vscode.ConfigurationTarget.Global);
    await cfg.update('completions.timeBudgetMs', 5000, vscode.ConfigurationTarget.Global);
    try {
      let seen = false;
      const missed: string[] = [];
      for (let attempt = 0; attempt < 8 && !seen; attempt++) {
        a.completions.clearCache();
        await sleep(300);
        const ev = a.completions.events;
        const c0 = ev.cancelled, q0 = ev.requests, e0 = ev.ended;
        // text the engine has not seen (its tokenizer caches lines): the file's first 1,500 lines
        // with their letters rotated, different each attempt
        const block = ed.document.getText(new vscode.Range(0, 0, 1500, 0))
          .replace(/[a-z]/g, (c) => String.fromCharCode(97 + ((c.charCodeAt(0) - 97 + 3 + attempt) % 26)));
        const top = ed.selection.active.line - 1;
        assert.ok(await ed.edit((e) => e.insert(new vscode.Position(top, 0), block)), 'pasted a block above the cursor');
        // the moment a request for the cursor is in flight, type on
        const started = await waitFor('a request in flight', () => ev.requests > q0, 3000, 1).catch(() => false);
        if (!started || ev.ended > e0) { missed.push('ended before typing on'); continue; }
        const t = Date.now();
        await typeText('x');
        // The keystroke reaches the extension host late while VS Code is busy after a 1,500-line
        // paste on 2 loaded cores, so the request gets 10 s to end from the test's keystroke (a
        // request that ran on would decode to its 5 s budget); the completion provider cancels a
        // request for an older version as soon as it sees the change.
        const ended = await waitFor('the request to end', () => ev.ended > e0, 10000, 2).then(() => true).catch(() => false);
        const ms = Date.now() - t;
        if (!ended) {
          // say where the time went: wait for it to end, then show the requests' own timings
          await waitFor('the request to end at last', () => ev.ended > e0, 20000, 10).catch(() => undefined);
          assert.fail(`the request in flight still ran ${ms} ms after the keystroke (ended after ${Date.now() - t} ms; recent requests: ${JSON.stringify(ev.recent)})`);
        }
        const last = ev.recent[ev.recent.length - 1];
        // VS Code asked for it and took its hurried answer before the keystroke arrived: try again
        if (ev.cancelled === c0) { missed.push(`answered ${ms} ms after typing on (${JSON.stringify(last)})`); continue; }
        seen = true;
        // A waiting request's runs start short and stay short while the machine is loaded
        // (RunPacer), and a cancel or edit that came in during a run stops the request before its
        // next run: before these, this measured 0.9-4.1 s after the paste (one 1,024-token run took
        // 1.6 s with VS Code holding the cores); since, 32-315 ms, once 1.35 s in a CI run on 2
        // loaded cores. The engine's own tests bound the mechanism tightly (pacing.test.ts); here
        // the bound is what a user would call stopping at once on such a machine.
        const afterChange = last.endedAt - ev.changedAt;
        console.log(`typing on: cancelled ${afterChange} ms after the extension host saw the keystroke (${ms} ms after typing it)`);
        assert.ok(afterChange <= 2500, `the request ran on ${afterChange} ms after the extension host saw the keystroke (${JSON.stringify(last)})`);
        assert.ok(afterChange >= 0, `cancelled before the keystroke was seen (${JSON.stringify(last)})`);
      }
      if (missed.length) console.log(`typing on: attempts that could not test a cancellation: ${missed.join('; ')}`);
      assert.ok(seen, 'a request in flight was cancelled by typing');
    } finally {
      await cfg.update('completions.suffixLines', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('completions.timeBudgetMs', undefined, vscode.ConfigurationTarget.Global);
    }
    await revert(ed);
  });

  it('settings: completions off (globally or for the language) stop automatic requests; the command still triggers one', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    const cfg = vscode.workspace.getConfiguration('flowstate');
    await newLineInMain(ed);
    const quiet = async (what: string) => {
      // a request started before the setting changed (for the edit above) may still be counted
      // when it leaves the queue: let it land before counting
      await sleep(600);
      a.completions.clearCache();
      const r0 = a.completions.events.requests;
      await typeText('  let q');
      await sleep(1200);
      assert.strictEqual(a.completions.events.requests, r0, `no automatic request with ${what}`);
      // the manual trigger command (Alt+\\) asks anyway
      const since = Date.now();
      await vscode.commands.executeCommand('flowstate.triggerCompletion');
      await waitFor(`a manual completion with ${what}`, () => (a.completions.events.lastResult && a.completions.events.lastResult.at >= since ? true : undefined), 15000);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
    };
    try {
      await cfg.update('completions.languages', { '*': true, typescript: false }, vscode.ConfigurationTarget.Global);
      await quiet('typescript disabled');
      await cfg.update('completions.languages', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('flowstate.toggleCompletions');
      assert.strictEqual(vscode.workspace.getConfiguration('flowstate').get('completions.enable'), false);
      await waitFor('the status bar to show completions off', () => /circle-slash/.test(a.statusBar.item.text), 5000);
      await quiet('completions off');
    } finally {
      await cfg.update('completions.languages', undefined, vscode.ConfigurationTarget.Global);
      await cfg.update('completions.enable', undefined, vscode.ConfigurationTarget.Global);
    }
    // back on: typing asks the engine again
    a.completions.clearCache();
    const r1 = a.completions.events.requests;
    await typeText('u');
    await waitFor('an automatic request again', () => a.completions.events.requests > r1, 10000);
    await revert(ed);
  });

  it('a jump in a large file makes the state at the new line ready before typing (engine prepare)', async () => {
    const a = await api();
    const ed = await openEditor('large.js');
    await a.engine.api!.read(ed.document.uri.toString(), ed.document.offsetAt(new vscode.Position(2500, 0)));
    const jumpTo = async (line: number) => {
      const p = new vscode.Position(line, 0);
      ed.selection = new vscode.Selection(p, p);
      ed.revealRange(new vscode.Range(p, p));
    };
    let n0 = a.warmup.count;
    await jumpTo(2222);
    await waitFor('the line prepared', () => a.warmup.count > n0, 15000);
    // moving along the same line asks nothing; a line prepared already is not prepared again
    n0 = a.warmup.count;
    await jumpTo(2222);
    const p = new vscode.Position(2222, 3);
    ed.selection = new vscode.Selection(p, p);
    await sleep(800);
    assert.strictEqual(a.warmup.count, n0);
    // the next jump prepares its line too
    await jumpTo(1111);
    await waitFor('the next line prepared', () => a.warmup.count > n0, 15000);
  });

  it('with the suggestion list open, the ghost text continues its selected item as if typed; accepting the item keeps the rest', async () => {
    const a = await api();
    const ed = await openEditor('small.ts');
    const cfg = vscode.workspace.getConfiguration('flowstate');
    await newLineInMain(ed);
    await typeText('  const pa');
    await sleep(600); // the automatic requests of the typing land first
    // (the extension's own requests, started on edits, and VS Code's run beside these)
    const ask = async (selectedCompletionInfo?: vscode.SelectedCompletionInfo) => {
      const pos = ed.selection.active;
      const n0 = a.completions.events.timings.length;
      const items = await a.completions.provideInlineCompletionItems(ed.document, pos,
        { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo }, new vscode.CancellationTokenSource().token);
      return { pos, item: items?.[0], timings: a.completions.events.timings.slice(n0) };
    };
    try {
      // time enough for whole answers: a cut one would depend on the machine's speed
      await cfg.update('completions.timeBudgetMs', 5000, vscode.ConfigurationTarget.Global);
      a.completions.clearCache();
      const pos0 = ed.selection.active;
      const wordStart = pos0.translate(0, -2);
      const listed = await ask({ range: new vscode.Range(wordStart, pos0), text: 'path' });
      assert.ok(listed.item, 'ghost text beside the list');
      const insert = String(listed.item!.insertText);
      assert.ok(insert.startsWith('path') && insert.length > 4, `ghost text ${JSON.stringify(insert)} starts with the item and goes on`);
      assert.ok(listed.item!.range!.start.isEqual(wordStart) && listed.item!.range!.end.isEqual(pos0), 'it replaces the typed part of the word');
      const rest = insert.slice(4);
      // accepting the item (the list's Enter): the rest is there at once, from the cache
      await ed.edit((e) => e.replace(new vscode.Range(wordStart, pos0), 'path'));
      const accepted = await ask();
      assert.strictEqual(String(accepted.item?.insertText), rest);
      assert.ok(accepted.timings.some((t) => t.cached && t.chars === rest.length), 'answered from the cache');
      // and the engine, asked with the word typed and the provider's settings, answers the same (greedy, same context)
      const s = completionSettings(ed.document);
      const pos = ed.selection.active;
      const ref = await a.engine.api!.complete({ uri: ed.document.uri.toString(), version: ed.document.version, offset: ed.document.offsetAt(pos),
        maxTokens: s.maxTokens, temperature: s.temperature, topP: 0.95, timeBudgetMs: 5000, mode: 'block', suffixLines: s.suffixLines });
      const typed = shapeCompletion(ed.document, pos, ref.text, 'block', cutShort(ref.stoppedBy));
      assert.strictEqual(typed?.text, rest, `typed: ${JSON.stringify(ref.text)} (${ref.stoppedBy}), listed: ${JSON.stringify(insert)}`);
      // an item that would replace text after the cursor gets no ghost text beside it
      const p = ed.selection.active;
      const wide = await a.completions.provideInlineCompletionItems(ed.document, p,
        { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: { range: new vscode.Range(p.translate(0, -4), p.translate(0, 1)), text: 'pathname' } },
        new vscode.CancellationTokenSource().token);
      assert.strictEqual(wide, undefined);
    } finally {
      await cfg.update('completions.timeBudgetMs', undefined, vscode.ConfigurationTarget.Global);
    }
    await revert(ed);
  });

  it('drops suggestions that only repeat the text after the cursor; line vs block shaping', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'typescript', content: 'function f(a) {\n  return g(a);\n}\nconst x = 1;\n' });
    const mid = new vscode.Position(1, 11); // after "  return g(" with "a);" after the cursor
    assert.strictEqual(shapeCompletion(doc, mid, 'a);', 'line'), undefined);
    assert.strictEqual(shapeCompletion(doc, mid, 'a', 'line'), undefined);
    assert.deepStrictEqual(shapeCompletion(doc, mid, 'b, a);', 'line'), { text: 'b, a);', replacesAfter: 3 });
    assert.deepStrictEqual(shapeCompletion(doc, mid, 'a + 1\nmore', 'line'), { text: 'a + 1', replacesAfter: 0 });
    const end = new vscode.Position(0, 15); // end of "function f(a) {"
    // block mode stops at the next existing line and at a line indented less than the cursor's
    assert.deepStrictEqual(shapeCompletion(doc, end, '\n  const y = a;\n  return g(a);\n}', 'block'), { text: '\n  const y = a;', replacesAfter: 0 });
    assert.strictEqual(shapeCompletion(doc, end, '\n  return g(a);', 'block'), undefined);
    // cut by the token limit or the time: a multi-line answer keeps its whole lines only
    assert.deepStrictEqual(shapeCompletion(doc, end, '\n  const y = a;\n  const z = g(', 'block', true), { text: '\n  const y = a;', replacesAfter: 0 });
    assert.deepStrictEqual(shapeCompletion(doc, end, '\n  const y = a;\n  const z = g(', 'block', false), { text: '\n  const y = a;\n  const z = g(', replacesAfter: 0 });
    const inner = new vscode.Position(1, 14);
    assert.deepStrictEqual(shapeCompletion(doc, inner, '\n  h(a);\nconst z = 2;', 'block'), { text: '\n  h(a);', replacesAfter: 0 });
  });

  for (const [file, re] of [['small.ts', /^function main\(\) \{$/], ['large.js', /^\s*function \w+\(.*\) \{$/]] as const) {
    it(`keystroke-to-ghost-text latency in ${file}`, async () => {
      const a = await api();
      const ed = await openEditor(file);
      await a.engine.api!.read(ed.document.uri.toString());
      // a function in the last third of the large file: the engine must not re-read the prefix
      if (file === 'large.js') {
        const line = Math.floor(ed.document.lineCount * 0.7);
        const p = new vscode.Position(line, 0);
        ed.selection = new vscode.Selection(p, p);
      }
      const start = file === 'large.js' ? ed.selection.active.line : 0;
      let found: vscode.Position | undefined;
      for (let l = start; l < ed.document.lineCount && !found; l++) if (re.test(ed.document.lineAt(l).text)) found = new vscode.Position(l, ed.document.lineAt(l).text.length);
      assert.ok(found, 'a function line');
      ed.selection = new vscode.Selection(found!, found!);
      ed.revealRange(new vscode.Range(found!, found!), vscode.TextEditorRevealType.InCenter);
      await vscode.commands.executeCommand('editor.action.insertLineAfter');
      const lat: number[] = [];
      const all: CompletionTiming[] = [];
      const word = 'const value = compute(';
      for (let i = 0; i < 30; i++) {
        a.completions.clearCache();
        const n0 = a.completions.events.timings.length;
        await typeText(word[i % word.length]);
        const t = await waitFor('an answer', () => a.completions.events.timings.slice(n0).find((x) => !x.cached), 5000, 2).catch(() => undefined);
        if (t) { all.push(t); if (t.chars > 0) lat.push(t.keystrokeToResult); }
        await sleep(250);
      }
      const slow = [...all].sort((x, y) => y.keystrokeToResult - x.keystrokeToResult).slice(0, 3);
      console.log(`slowest in ${file}: ` + slow.map((t) => `${t.keystrokeToResult} ms (asked after ${t.askedAfter}, debounce ${t.debounceMs}, engine ${t.engineMs}: state ${t.msToState}, first ${t.msToFirstToken}, total ${t.msEngineTotal}, ${t.tokens} tokens, ${t.stoppedBy}, ${t.chars} chars)`).join('; '));
      assert.ok(all.length >= 25, `only ${all.length} of 30 keystrokes got an answer`);
      assert.ok(lat.length >= 10, `only ${lat.length} of 30 answers had ghost text`);
      const p50 = percentile(lat, 0.5), p95 = percentile(lat, 0.95);
      const med = (f: (t: CompletionTiming) => number | undefined) => percentile(all.map(f).filter((x): x is number => x !== undefined), 0.5).toFixed(0);
      report(`completion | ${file} | ${(ed.document.getText().length / 1024).toFixed(0)} KiB | n=${lat.length} with text of ${all.length} answers | p50 ${p50.toFixed(0)} ms | p95 ${p95.toFixed(0)} ms | keystroke to provider result (extension host), ${a.engine.info!.modelName}; medians: VS Code asked after ${med((t) => t.askedAfter)}, started on the keystroke ${all.filter((t) => t.speculative).length}/${all.length}, engine state ${med((t) => t.msToState)}, first token ${med((t) => t.msToFirstToken)}, engine total ${med((t) => t.msEngineTotal)} ms, ${med((t) => t.tokens)} tokens`);
      await revert(ed);
    });
  }
});
