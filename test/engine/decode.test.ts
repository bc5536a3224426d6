// Decoding against an independent greedy loop over direct model runs, token healing, FIM,
// stop conditions, sampling and cancellation.
import * as assert from 'assert';
import * as path from 'path';
import type { CompletionRequest } from '../../src/engine/api';
import { MAX_SUFFIX_TOKENS } from '../../src/engine/completer';
import type { Engine } from '../../src/engine/engine';
import { checkStop, fitMiddle, shownPart, worthShowing } from '../../src/engine/stopRules';
import { completeUtf8Prefix, decodeUtf8 } from '../../src/engine/utf';
import { engine, ROOT, sampleSource, TINY } from './helpers';

function req(offset: number, extra: Partial<CompletionRequest> = {}): CompletionRequest {
  // loops are not cut here: these tests compare with plain greedy decoding by hand
  return { uri: 'doc', version: 1, offset, maxTokens: 8, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block', suffixLines: 0, stopOnRepetition: false, ...extra };
}

/** Greedy decoding by hand: feed `prompt`, then argmax (with an optional byte prefix constraint). */
async function referenceGreedy(e: Engine, prompt: number[], n: number, mustStart: Uint8Array = new Uint8Array(0),
  eachToken?: (visible: string, margin: number) => void): Promise<string> {
  const m = e.runner.manifest, tok = e.tokenizer;
  const stops = new Set([m.special.end_of_text, m.special.fim_prefix, m.special.fim_suffix, m.special.fim_middle]);
  let out = await e.runner.run(Int32Array.from(prompt), new Float32Array(m.stateSize));
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1, second = -Infinity;
    for (let id = 0; id < tok.vocabSize; id++) {
      if (id === m.special.pad) continue;
      const b = tok.bytes[id];
      let ok = true;
      for (let j = 0; j < b.length && bytes.length + j < mustStart.length; j++) if (b[j] !== mustStart[bytes.length + j]) ok = false;
      if (bytes.length < mustStart.length && b.length === 0) ok = false;
      if (!ok) continue;
      if (best < 0 || out.logits[id] > out.logits[best]) { if (best >= 0) second = out.logits[best]; best = id; }
      else if (out.logits[id] > second) second = out.logits[id];
    }
    if (stops.has(best)) break;
    for (const b of tok.bytes[best]) bytes.push(b);
    eachToken?.(visibleText(bytes, mustStart.length), out.logits[best] - second);
    out = await e.runner.run(Int32Array.of(best), out.state);
  }
  return visibleText(bytes, mustStart.length);
}

function visibleText(bytes: number[], healed: number): string {
  const vis = Uint8Array.from(bytes.slice(healed));
  return decodeUtf8(vis.subarray(0, completeUtf8Prefix(vis)));
}

const text = sampleSource().slice(0, 4000);
const lines = text.split('\n');
const lineStart = (i: number) => lines.slice(0, i).reduce((s, l) => s + l.length + 1, 0);
const prefixIds = (e: Engine, upto: number) => [e.runner.manifest.special.fim_prefix, ...e.tokenizer.encodeText(text.slice(0, upto))];

/** An engine on modelDir with the sample text open as 'doc' and read. */
async function engineWithSample(modelDir: string): Promise<Engine> {
  const e = await engine(modelDir);
  await e.openDocument('doc', 1, text);
  await e.read('doc');
  return e;
}

describe('decoding', function () {
  this.timeout(60_000);
  let e: Engine;

  before(async () => { e = await engineWithSample(TINY[0]); });
  after(() => e.dispose());

  it('greedy continuation at a line start equals a greedy loop over direct runs', async () => {
    const off = lineStart(20);
    const r = await e.complete(req(off));
    assert.strictEqual(r.text, await referenceGreedy(e, prefixIds(e, off), 8));
    assert.ok(r.tokens > 0 && r.msToFirstToken <= r.msTotal && r.msToState <= r.msToFirstToken);
  });

  it('at the end of a read file and at a line start typed before, the stored logits answer with no replay', async () => {
    // the read frontier keeps the logits after the last token: completing at the end runs only the decoded tokens
    const end = text.length - lines[lines.length - 1].length; // the last line is empty or short: its start
    const t = await engineWithText(text.slice(0, end));
    const runs0 = t.runner.stats.tokens;
    const r = await t.complete(req(end));
    assert.strictEqual(t.runner.stats.tokens - runs0, Math.max(0, r.tokens - 1), 'only the decoded tokens ran');
    assert.strictEqual(r.text, await referenceGreedy(t, [t.runner.manifest.special.fim_prefix, ...t.tokenizer.encodeText(text.slice(0, end))], 8));
    await t.dispose();
    // a hot checkpoint at a line start keeps its logits too: the second request there replays nothing
    const off = lineStart(30);
    await e.complete(req(off));
    const before = e.runner.stats.tokens;
    const again = await e.complete(req(off));
    assert.strictEqual(e.runner.stats.tokens - before, Math.max(0, again.tokens - 1));
    assert.strictEqual(again.text, await referenceGreedy(e, prefixIds(e, off), 8));
  });

  async function engineWithText(t: string): Promise<Engine> {
    const x = await engine(TINY[0]);
    await x.openDocument('doc', 1, t);
    await x.read('doc');
    return x;
  }

  it('heals the token at the cursor inside a word', async () => {
    const L = lines.findIndex((l, i) => i > 10 && /[A-Za-z]{6}/.test(l));
    const col = lines[L].search(/[A-Za-z]{6}/) + 3; // three letters into a word
    const off = lineStart(L) + col;
    const lineIds = e.tokenizer.encodeLine(lines[L].slice(0, col)).ids;
    const heal = e.tokenizer.bytes[lineIds[lineIds.length - 1]];
    const prompt = [...prefixIds(e, lineStart(L)), ...lineIds.subarray(0, lineIds.length - 1)];
    const r = await e.complete(req(off));
    assert.strictEqual(r.text, await referenceGreedy(e, prompt, 8, heal));
  });

  it('text assumed at the cursor (a suggestion list\'s selected item) is completed as if typed', async () => {
    const L = lines.findIndex((l, i) => i > 10 && /[A-Za-z]{6}/.test(l));
    const wordStart = lines[L].search(/[A-Za-z]{6}/);
    const word = /^[A-Za-z_0-9]+/.exec(lines[L].slice(wordStart))![0];
    const col = wordStart + 3; // three letters typed; the list offers the whole word
    const off = lineStart(L) + col;
    const assume = { text: word, replaces: 3 };
    // by hand: the line with the whole word typed, its last token healed
    const typedIds = e.tokenizer.encodeLine(lines[L].slice(0, wordStart) + word).ids;
    const prompt = [...prefixIds(e, lineStart(L)), ...typedIds.subarray(0, typedIds.length - 1)];
    const r = await e.complete(req(off, { assume }));
    assert.strictEqual(r.text, await referenceGreedy(e, prompt, 8, e.tokenizer.bytes[typedIds[typedIds.length - 1]]));
    // with fill-in-the-middle: the same answer as in a document where the word was typed
    const typedLine = lines[L].slice(0, wordStart) + word + lines[L].slice(col);
    await e.openDocument('typed', 1, [...lines.slice(0, L), typedLine, ...lines.slice(L + 1)].join('\n'));
    try {
      const fim = { suffixLines: 3, mode: 'line' as const };
      const a = await e.complete(req(off, { assume, ...fim }));
      const b = await e.complete({ ...req(lineStart(L) + wordStart + word.length, fim), uri: 'typed' });
      assert.deepStrictEqual([a.text, a.tokens, a.stoppedBy], [b.text, b.tokens, b.stoppedBy]);
    } finally {
      await e.closeDocument('typed');
    }
    // assumed text that leaves the line or reaches before it is refused
    await assert.rejects(e.complete(req(off, { assume: { text: word, replaces: col + 1 } })), /at most the \d+ characters/);
    await assert.rejects(e.complete(req(off, { assume: { text: 'a\nb', replaces: 0 } })), /stay on the cursor's line/);
  });

  it('fill-in-the-middle feeds <fim_suffix> suffix lines <fim_middle> after the cached prefix state', async () => {
    const L = lines.findIndex((l, i) => i > 5 && l.trim() === '' && i + 4 < lines.length);
    const off = lineStart(L);
    const sp = e.runner.manifest.special;
    const suffix = e.tokenizer.encodeText(lines.slice(L + 1, L + 4).join('\n') + '\n');
    const prompt = [...prefixIds(e, off), sp.fim_suffix, ...suffix, sp.fim_middle];
    const r = await e.complete(req(off, { suffixLines: 3 }));
    assert.strictEqual(r.text, (await referenceGreedy(e, prompt, 8)).replace(/\n$/, ''));
  });

  it('bounds the fill-in-the-middle suffix', async () => {
    const big = await engine(TINY[0]);
    await big.openDocument('doc', 1, 'a = 1\n' + 'value = compute(value, other) + 1\n'.repeat(2000));
    const d = big.document('doc');
    const completer = (big as unknown as { completer: { suffixTokens(d: unknown, l: number, n: number): Int32Array } }).completer;
    const s = completer.suffixTokens(d, 0, 10_000);
    assert.ok(s.length <= MAX_SUFFIX_TOKENS && s.length > MAX_SUFFIX_TOKENS / 2);
    assert.strictEqual(s[s.length - 1], big.runner.manifest.special.fim_middle);
    const r = await big.complete(req(3, { suffixLines: 10_000, maxTokens: 2 }));
    assert.ok(r.msToFirstToken < 5000);
    await big.dispose();
  });

  it('stops at stop strings, at max tokens and when the time is up', async () => {
    const off = lineStart(30);
    const long = await e.complete(req(off, { maxTokens: 12 }));
    assert.strictEqual(long.stoppedBy, 'max_tokens');
    assert.strictEqual(long.tokens, 12);
    const stop = long.text.slice(Math.floor(long.text.length / 2), Math.floor(long.text.length / 2) + 2);
    const cut = await e.complete(req(off, { maxTokens: 12, stopStrings: [stop] }));
    assert.strictEqual(cut.stoppedBy, 'stop_string');
    assert.strictEqual(cut.text, long.text.slice(0, long.text.indexOf(stop)));
    // out of time at once: it stops as soon as it has something to show, or at the hard limit
    // (200 ms for a 0 ms budget): the tiny model here writes only line ends
    const quick = await e.complete(req(off, { maxTokens: 1_000_000, timeBudgetMs: 0 }));
    assert.strictEqual(quick.stoppedBy, 'time');
    const following = text.slice(off, off + 400);
    assert.ok(worthShowing(quick.text, 'block', following) ? quick.msTotal < 200 : quick.msTotal >= 200 && quick.msTotal < 1000, JSON.stringify(quick).slice(-200));
  });

  it('judges what an answer cut short would show', () => {
    assert.strictEqual(shownPart('foo(a)\n  bar', 'line'), 'foo(a)');
    assert.strictEqual(shownPart('foo(a)\n  bar', 'block'), 'foo(a)'); // the partial last line waits
    assert.strictEqual(shownPart('foo(a)', 'block'), 'foo(a)');
    assert.strictEqual(shownPart('\n  bar', 'block'), '');
    assert.ok(worthShowing(' = 1', 'line', ');\nnext'));
    assert.ok(!worthShowing('  \n', 'block', ''));
    assert.ok(!worthShowing('\n  bar', 'block', '')); // only a partial line after a blank one
    assert.ok(!worthShowing(');', 'line', ');\nnext')); // only repeats the rest of the line
    assert.ok(!worthShowing('  return x;', 'block', '\n  return x;\n}')); // only repeats the next line
  });

  it('judges line ends, indentation and the rest of the line', () => {
    const spec = { stopStrings: [], cursorIndent: 4 };
    assert.deepStrictEqual(checkStop('foo(1)\r\nbar', { ...spec, mode: 'line' }), { text: 'foo(1)', reason: 'line_end' });
    assert.strictEqual(checkStop('\n    x = 1', { ...spec, mode: 'line' }), undefined);
    assert.deepStrictEqual(checkStop('a\n      b\n\n    c\n  }', { ...spec, mode: 'block' }), { text: 'a\n      b\n\n    c', reason: 'indent' });
    assert.strictEqual(checkStop('a\n\t b', { ...spec, mode: 'block' }), undefined);
    assert.deepStrictEqual(checkStop('xy END z', { stopStrings: ['END', ' z'], cursorIndent: 0, mode: 'block' }), { text: 'xy ', reason: 'stop_string' });
    const loop = 'def _get_view' + '_class_view'.repeat(5);
    assert.deepStrictEqual(checkStop(loop, { ...spec, mode: 'line' }), { text: 'def _get_view_class_view', reason: 'repetition' });
    assert.deepStrictEqual(checkStop('x = f(a)\nx = f(a)\nx = f(a)\n', { ...spec, mode: 'block', cursorIndent: 0 }), { text: 'x = f(a)\n', reason: 'repetition' });
    assert.strictEqual(checkStop('# ==================', { ...spec, mode: 'line' }), undefined, 'punctuation runs are not loops');
    assert.strictEqual(checkStop('[0, 0, 0]', { ...spec, mode: 'line' }), undefined, 'three short units are not yet a loop');
    assert.strictEqual(fitMiddle('a, b)\n', ')'), 'a, b');
    assert.strictEqual(fitMiddle('a, b)\n', ''), 'a, b)');
    assert.strictEqual(fitMiddle('x\n', ' y'), 'x');
  });

  it('samples reproducibly with a seed; top-p near 0 is greedy', async () => {
    const off = lineStart(25);
    const a = await e.complete(req(off, { temperature: 1, topP: 0.95, seed: 42 }));
    const b = await e.complete(req(off, { temperature: 1, topP: 0.95, seed: 42 }));
    assert.strictEqual(a.text, b.text);
    const g = await e.complete(req(off));
    const p = await e.complete(req(off, { temperature: 0.8, topP: 1e-9, seed: 7 }));
    assert.strictEqual(p.text, g.text);
  });

  it('a cancelled completion stops at once', async () => {
    void e.cancel('early');
    const early = await e.complete(req(lineStart(12), { maxTokens: 1000 }), 'early');
    assert.strictEqual(early.stoppedBy, 'cancelled');
    assert.strictEqual(early.tokens, 0);
    const t0 = Date.now();
    const p = e.complete(req(lineStart(12), { maxTokens: 1_000_000, stopStrings: [] }), 'mid');
    setTimeout(() => void e.cancel('mid'), 100);
    const r = await p;
    assert.strictEqual(r.stoppedBy, 'cancelled');
    assert.ok(r.tokens > 0 && r.tokens < 1_000_000);
    assert.ok(Date.now() - t0 < 1000, `stopped after ${Date.now() - t0} ms`);
  });

  it('an edit of the document stops its completions under way (their answer is for text that is gone); an edit of another does not', async () => {
    await e.openDocument('other', 1, 'const a = 1;\n');
    const long = (version: number) => req(lineStart(12), { version, maxTokens: 1_000_000, stopStrings: [], timeBudgetMs: 60_000 });
    const t0 = Date.now();
    const p = e.complete(long(1));   // no cancel id: nobody could cancel it but the edit
    await new Promise((r) => setTimeout(r, 100));
    await e.applyEdits('other', 2, [{ rangeOffset: 0, rangeLength: 0, text: '// x\n' }]);
    await new Promise((r) => setTimeout(r, 100));
    await e.applyEdits('doc', 2, [{ rangeOffset: lineStart(20), rangeLength: 0, text: 'x' }]);
    const r = await p;
    assert.strictEqual(r.stoppedBy, 'cancelled');
    const ms = Date.now() - t0;
    assert.ok(ms >= 200 && ms < 1000, `stopped after ${ms} ms: not by the other document's edit, soon after its own`);
    assert.ok(r.tokens > 0);
    // the next request, for the new version, runs as usual
    const after = await e.complete(req(lineStart(12), { version: 2 }));
    assert.notStrictEqual(after.stoppedBy, 'cancelled');
    await e.openDocument('doc', 1, text);   // as the other tests expect it
    await e.closeDocument('other');
  });

  it('a cancellation during a long fill-in-the-middle suffix stops it between its pieces', async () => {
    const runner = e.runner, run = runner.run.bind(runner);
    const fimSuffix = runner.manifest.special.fim_suffix;
    const seen: number[] = [];   // tokens per run from the suffix's first piece on
    runner.run = async (tokens, state) => {
      if (seen.length || tokens[0] === fimSuffix) {
        seen.push(tokens.length);
        void e.cancel('suffix');   // typing on while the suffix is read
      }
      return run(tokens, state);
    };
    try {
      const r = await e.complete(req(lineStart(2), { suffixLines: 1000 }), 'suffix');
      assert.strictEqual(r.stoppedBy, 'cancelled');
      assert.strictEqual(r.tokens, 0);
      // the suffix is far longer than one piece, and only the piece under way when the
      // cancellation came was read
      const whole = e.tokenizer.encodeText(text.slice(lineStart(3))).length;
      assert.ok(whole > 600, `suffix of ${whole} tokens`);
      assert.deepStrictEqual(seen.length, 1, `runs after the cancellation: ${seen.join(', ')}`);
      assert.ok(seen[0] <= 256, `a first piece of ${seen[0]} tokens`);
    } finally {
      runner.run = run;
    }
  });

  it('prepare makes the state at a line start ahead, so a completion there runs only its line', async () => {
    const tokensRun = async (eng: Engine, work: () => Promise<unknown>) => {
      const runner = eng.runner, run = runner.run.bind(runner);
      let n = 0;
      runner.run = async (tokens, state) => { n += tokens.length; return run(tokens, state); };
      try { await work(); } finally { runner.run = run; }
      return n;
    };
    const fresh = await engineWithSample(TINY[0]), prepared = await engineWithSample(TINY[0]);
    try {
      // a line far from the checkpoint before it: the unprepared engine replays the gap first
      // (lines from the end up, so that the hot checkpoints one probe leaves do not serve the next)
      let line = -1, lineTokens = 0;
      for (let l = lines.length - 2; l > 10 && line < 0; l -= 3) {
        const n = e.tokenizer.encodeLine(lines[l]).ids.length;
        const ran = await tokensRun(fresh, () => fresh.complete(req(lineStart(l) + lines[l].length, { maxTokens: 1 })));
        if (ran > n + 30) { line = l; lineTokens = n; }
      }
      assert.ok(line >= 0, 'a line far from a checkpoint');
      const off = lineStart(line) + lines[line].length;
      assert.strictEqual(await prepared.prepare('doc', off), true);
      assert.strictEqual(await prepared.prepare('doc', off), false, 'the second time there is nothing to do');
      const ran = await tokensRun(prepared, () => prepared.complete(req(off, { maxTokens: 1 })));
      assert.ok(ran <= lineTokens, `${ran} tokens run for a line of ${lineTokens}`);
    } finally {
      await fresh.dispose();
      await prepared.dispose();
    }
  });

  it('a newer prepare of the document, or a completion in it, stops the prepare under way', async () => {
    // short runs, so that a prepare takes several and can be stopped between them
    const p = await engine(TINY[0], { activeRunTokens: 16, backgroundReading: false });
    try {
      await p.openDocument('doc', 1, text);
      await p.read('doc');
      const endOf = (l: number) => lineStart(l) + lines[l].length;
      const first = p.prepare('doc', endOf(lines.length - 3));
      const second = p.prepare('doc', endOf(lines.length - 30));
      assert.deepStrictEqual(await Promise.all([first, second]), [false, true]);
      const third = p.prepare('doc', endOf(lines.length - 60));
      const r = await p.complete(req(endOf(20), { maxTokens: 1 }));
      assert.strictEqual(r.tokens, 1);
      assert.strictEqual(await third, false);
      assert.strictEqual(await p.prepare('doc', endOf(lines.length - 60)), true, 'asked again, it does its work');
    } finally {
      await p.dispose();
    }
  });

  it('rejects a request for another version of the document', async () => {
    await assert.rejects(e.complete(req(0, { version: 2 })), /version/);
  });
});

describe('decoding, hurried (the default model: its words span several tokens)', function () {
  this.timeout(120_000);
  let e: Engine;

  before(async () => { e = await engineWithSample(path.join(ROOT, 'models', 'flowformer')); });
  after(() => e.dispose());

  it('a hurried completion, or one out of time, answers at the first word end worth showing, as a greedy loop by hand finds it', async () => {
    let checked = 0, insideWord = 0;
    for (let line = 10; line < lines.length - 1 && (checked < 3 || insideWord < 1); line++) {
      const col = Math.floor(lines[line].length / 2);
      if (col < 2) continue;
      const off = lineStart(line) + col;
      // by hand, as in the healing test: the first k tokens whose visible text is worth showing
      // (not blank, not only what follows the cursor) and whose next token starts a new word
      const lineIds = e.tokenizer.encodeLine(lines[line].slice(0, col)).ids;
      const heal = e.tokenizer.bytes[lineIds[lineIds.length - 1]];
      const prompt = [...prefixIds(e, lineStart(line)), ...lineIds.subarray(0, lineIds.length - 1)];
      const following = [lines[line].slice(col), ...lines.slice(line + 1, line + 4)].join('\n');
      const texts: string[] = [], margins: number[] = [];
      await referenceGreedy(e, prompt, 20, heal, (t, m) => { texts.push(t); margins.push(m); });
      let expected: string | undefined, firstText: string | undefined, k = 0;
      for (; k + 1 < texts.length && expected === undefined; k++) {
        const upto = texts[k], next = texts[k + 1].slice(upto.length);
        if (upto.trim() !== '') firstText ??= upto;
        if (worthShowing(upto, 'block', following) && next !== '' && !(/\w$/.test(upto) && /^\w/.test(next))) expected = upto;
      }
      if (expected === undefined) continue; // no word end within 20 tokens: nothing to hurry to
      // The engine reads the prompt in other chunks (checkpoints, runs of other lengths) than this
      // loop's one run; on the int8 CPU graphs that moves logits by up to ~0.1. A near tie on
      // the way may then go either way: such a case says nothing about hurrying.
      if (Math.min(...margins.slice(0, k + 1)) < 0.3) continue;
      checked++;
      if (expected !== firstText) insideWord++; // a case where stopping at the first text would cut a word
      void e.hurry(`hurry-${off}`); // before the request arrives: kept for it, as a cancel is
      const r = await e.complete(req(off, { maxTokens: 40 }), `hurry-${off}`);
      assert.strictEqual(r.text, expected);
      assert.strictEqual(r.stoppedBy, 'time');
      // out of time from the start: the same answer (decoding goes on to text worth showing)
      const late = await e.complete(req(off, { maxTokens: 40, timeBudgetMs: 0 }));
      assert.strictEqual(late.text, expected);
      assert.strictEqual(late.stoppedBy, 'time');
    }
    assert.ok(checked >= 3 && insideWord >= 1, `${checked} cases, ${insideWord} inside a word`);
  });

});
