// Very long lines (a minified bundle, a JSON file on one line): an edit keeps the tokens, scores
// and checkpoints of the line before it, and a completion typed in such a line replays only the
// tokens since the last chunk boundary before the cursor, not the line from its start.
import * as assert from 'assert';
import * as path from 'path';
import type { Engine } from '../../src/engine/engine';
import { seededRng } from '../../src/engine/sampling';
import { LineTokenizer } from '../../src/engine/tokenizer';
import { engine, maxStateDiff, TINY } from './helpers';

const MINIFIED = 'var a=function(b,c){return b+c*2},d="café\'s";x.y(\'z\').w(1,2);';

/** Counts the tokens of every model run the engine makes. */
function countRuns(e: Engine): { tokens: number } {
  const count = { tokens: 0 };
  const run = e.runner.run.bind(e.runner);
  e.runner.run = (tokens, state, purpose) => { count.tokens += tokens.length; return run(tokens, state, purpose); };
  return count;
}

describe('long lines', function () {
  this.timeout(120_000);
  const dir = TINY[0];
  const tok = LineTokenizer.load(path.join(dir, 'tokenizer.json'));
  const bos = (e: Engine) => e.runner.manifest.special.fim_prefix;

  it('an edit inside a long line keeps what lies before its first changed token, and drops the rest', async () => {
    const rnd = seededRng(21);
    let text = 'head();\n' + MINIFIED.repeat(60) + '\ntail();\n';
    const e = await engine(dir, { checkpointEvery: 16, runTokens: 24, urgentRunTokens: 24 });
    await e.openDocument('d', 1, text);
    let keptInside = 0;
    for (let step = 0; step < 12; step++) {
      await e.read('d');
      const doc = e.document('d');
      const lineStart = doc.lineStartToken(1);
      const before = [bos(e), ...tok.encodeText(text)];
      const off = 8 + 50 + Math.floor(rnd() * (MINIFIED.length * 60 - 50));
      // one edit is a paste of 33,000 characters (its line is tokenised later, in slices)
      const ins = step === 7 ? MINIFIED.repeat(540) : ['x', '(', ' ', 'é', '', '1;'][step % 6];
      const del = ins === '' ? 3 : step % 3 === 0 ? 1 : 0;
      text = text.slice(0, off) + ins + text.slice(off + del);
      await e.applyEdits('d', step + 2, [{ rangeOffset: off, rangeLength: del, text: ins }]);
      const after = [bos(e), ...tok.encodeText(text)];
      let firstDiff = 0;
      while (before[firstDiff] === after[firstDiff]) firstDiff++;
      // nothing after the first changed token survives; the kept part reaches near it
      assert.ok(doc.readTokens <= firstDiff, `scores kept to ${doc.readTokens}, first change at ${firstDiff}`);
      assert.ok(doc.readTokens >= firstDiff - 8, `scores kept to ${doc.readTokens} only, first change at ${firstDiff}`);
      assert.ok(doc.checkpoints.every((c) => c.g <= doc.readTokens) && (!doc.frontier || doc.frontier.g <= doc.readTokens));
      keptInside += doc.checkpoints.filter((c) => c.g > lineStart).length;
      assert.deepStrictEqual(Array.from(doc.tokenRange(0, doc.totalTokens)), after, 'the spliced line has the tokens of the new text');
    }
    assert.ok(keptInside > 12, `checkpoints inside the line survived the edits (${keptInside})`);
    await e.read('d');
    const fresh = await engine(dir);
    await fresh.openDocument('d', 1, text);
    await fresh.read('d');
    const a = await e.finalState('d'), b = await fresh.finalState('d');
    assert.ok(maxStateDiff(a.state, b.state, e.runner.manifest.stateTensors) < 1e-5, 'final state');
    await e.dispose();
    await fresh.dispose();
  });

  it('a line of 300 KB is tokenised in slices that each hold the engine briefly, to the whole line\'s tokens', async () => {
    const line = MINIFIED.repeat(Math.ceil(300_000 / MINIFIED.length));
    const text = 'head();\n' + line + '\ntail();\n';
    const whole = tok.encodeLine(line);
    const e = await engine(dir);
    await e.openDocument('d', 1, text);
    const doc = e.document('d');
    let slices = 0, longest = 0;
    for (;;) {
      const t = performance.now();
      const done = doc.tokenizeWithin(doc.lineCount, 1);
      longest = Math.max(longest, performance.now() - t);
      slices++;
      if (done) break;
    }
    // (the whole line takes 10-20 ms here: 1 ms slices of 8 KB pieces are several)
    assert.ok(slices >= 4, `${slices} slices`);
    assert.ok(longest < 150, `the longest slice took ${longest.toFixed(0)} ms`);
    assert.deepStrictEqual(Array.from(doc.lineTokens(1).ids), Array.from(whole.ids));
    assert.deepStrictEqual(Array.from(doc.lineTokens(1).starts), Array.from(whole.starts));
    // stopped halfway by an edit in the line, or asked for the line's tokens at once: the same
    await e.openDocument('d2', 1, text);
    const d2 = e.document('d2');
    for (let k = 0; k < 3; k++) d2.tokenizeWithin(d2.lineCount, 5);
    await e.applyEdits('d2', 2, [{ rangeOffset: 8 + 1000, rangeLength: 0, text: 'é(x)' }]);
    for (let k = 0; k < 3; k++) d2.tokenizeWithin(d2.lineCount, 5);
    const edited = line.slice(0, 1000) + 'é(x)' + line.slice(1000);
    assert.deepStrictEqual(Array.from(d2.lineTokens(1).ids), Array.from(tok.encodeLine(edited).ids));
    await e.dispose();
  });

  it('the summary of a minified file gives pieces of its line, with their columns, spread over it', async () => {
    // real minified code does not repeat itself (repeated pieces would be dropped as duplicates)
    const line = Array.from({ length: 250 }, (_, i) => `var a${i}=function(b,c){return b+c*${i % 17}},d${i}="s${(i * 7919) % 1000}";`).join('');
    const e = await engine(dir);
    await e.openDocument('d', 1, 'short();\n' + line);
    await e.read('d');
    const s = await e.summarize('d', 8);
    const pieces = s.lines.filter((l) => l.line === 1);
    assert.ok(pieces.length >= 7, JSON.stringify(s.lines.map((l) => [l.line, l.column])));
    for (const p of pieces) {
      assert.ok(p.column !== undefined && p.text.length > 0 && p.text.length <= 400, `${p.column}: ${p.text.length} characters`);
      assert.strictEqual(line.slice(p.column, p.column + p.text.length), p.text);
    }
    const cols = pieces.map((p) => p.column!);
    for (let i = 1; i < cols.length; i++) assert.ok(cols[i] > cols[i - 1] && cols[i] - cols[i - 1] < (2 * line.length) / 8 + 400, `columns ${cols.join(', ')}`);
    assert.ok(s.lines.every((l) => l.line === 1 || l.column === undefined), 'a short line is itself');
    await e.dispose();
  });

  it('typing at the end of a long line replays a few tokens per keystroke, as in a short line', async () => {
    // ~10,000 tokens in one line, checkpoints 4,096 tokens apart
    let text = 'head();\n' + MINIFIED.repeat(350);
    const e = await engine(dir, { checkpointEvery: 4096 });
    await e.openDocument('d', 1, text);
    await e.read('d');
    const runs = countRuns(e);
    const ask = (offset: number, version: number) =>
      e.complete({ uri: 'd', version, offset, maxTokens: 1, temperature: 0, topP: 1, timeBudgetMs: 10_000, mode: 'line', suffixLines: 0 });
    await ask(text.length, 1);
    const first = runs.tokens;
    const perKey: number[] = [];
    for (const [i, ch] of [...'foo(b,2)'].entries()) {
      await e.applyEdits('d', i + 2, [{ rangeOffset: text.length, rangeLength: 0, text: ch }]);
      text += ch;
      runs.tokens = 0;
      await ask(text.length, i + 2);
      perKey.push(runs.tokens);
    }
    assert.ok(Math.max(...perKey) <= 12, `tokens run per keystroke: ${perKey.join(', ')} (the first request: ${first})`);
    // after a jump into the middle of the line, a prepare there leaves the next keystroke as cheap
    const mid = 8 + MINIFIED.length * 170 + 5;
    assert.ok(await e.prepare('d', mid));
    runs.tokens = 0;
    await ask(mid, 9);
    assert.ok(runs.tokens <= 12, `tokens run at the prepared place: ${runs.tokens}`);
    await e.dispose();
  });
});
