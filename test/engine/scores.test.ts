// Scores, predictions and the summary against direct model runs over the document's tokens.
import * as assert from 'assert';
import type { Engine } from '../../src/engine/engine';
import { engine, maxRelDiff, sampleSource, TINY } from './helpers';

describe('scores, predictions and summary', function () {
  this.timeout(60_000);
  let e: Engine;
  const text = 'héllo wörld 😀\r\n' + sampleSource().slice(0, 3000) + '\n\tlast line 𝔘';
  let direct: { importance: Float32Array; surprisal: Float32Array };
  let ids: Int32Array;

  before(async () => {
    e = await engine(TINY[0]);
    await e.openDocument('doc', 1, text);
    await e.read('doc');
    const doc = e.document('doc');
    ids = doc.tokenRange(0, doc.totalTokens);
    direct = await e.runner.run(ids, new Float32Array(e.runner.manifest.stateSize));
  });
  after(() => e.dispose());

  it('scores cover the text token by token with the model\'s values', async () => {
    const s = await e.scores('doc', 0, text.length);
    assert.strictEqual(s.starts.length, ids.length - 1, 'every token but fim_prefix');
    assert.strictEqual(s.starts[0], 0);
    for (let i = 0; i + 1 < s.starts.length; i++) assert.strictEqual(s.ends[i], s.starts[i + 1]);
    assert.strictEqual(s.ends[s.ends.length - 1], text.length);
    // the tokens' bytes are the text's bytes between their offsets, where tokens end on characters
    let joined = '';
    for (let i = 0; i < s.starts.length; i++) joined += text.slice(s.starts[i], s.ends[i]);
    assert.strictEqual(joined, text);
    assert.ok(maxRelDiff(s.importance, direct.importance.subarray(1)) < 1e-5);
    assert.ok(maxRelDiff(s.surprisal, direct.surprisal.subarray(1)) < 1e-5);
    const part = await e.scores('doc', 100, 140);
    assert.ok(part.starts.length > 3 && part.starts[0] <= 100 && part.ends[part.ends.length - 1] >= 140);
  });

  it('predictionsAt gives the token\'s scores, their percentiles and the model\'s top-k', async () => {
    const off = text.indexOf('import');
    const p = await e.predictionsAt('doc', off, 5);
    // the token starting at `off`: the one after the tokens whose bytes make up text[0, off)
    let g = 1, bytes = 0;
    const want0 = Buffer.byteLength(text.slice(0, off));
    while (bytes < want0) bytes += e.tokenizer.bytes[ids[g++]].length;
    assert.ok(g > 0);
    assert.strictEqual(p.offset, off);
    assert.strictEqual(p.tokenText, e.tokenizer.decode([ids[g]]));
    assert.ok(Math.abs(p.importance - direct.importance[g]) < 1e-5);
    assert.ok(Math.abs(p.surprisal - direct.surprisal[g]) < 1e-4);
    const before = await e.runner.run(ids.subarray(0, g), new Float32Array(e.runner.manifest.stateSize));
    const max = Math.max(...before.logits);
    const z = before.logits.reduce((s, l) => s + Math.exp(l - max), 0);
    const want = [...before.logits.keys()].filter((i) => i > 4).sort((a, b) => before.logits[b] - before.logits[a]).slice(0, 5);
    assert.deepStrictEqual(p.top.map((t) => t.text), want.map((i) => e.tokenizer.decode([i])));
    p.top.forEach((t, i) => assert.ok(Math.abs(t.probability - Math.exp(before.logits[want[i]] - max) / z) < 1e-6));
    const below = Array.from(direct.surprisal.subarray(1)).filter((x) => x < p.surprisal).length;
    assert.ok(Math.abs(p.surprisalPercentile - (100 * below) / (ids.length - 1)) < 100 / (ids.length - 1) + 1e-9);
    assert.ok(p.importancePercentile >= 0 && p.importancePercentile <= 100);
  });

  it('summarizes: key lines in file order, the best of each part of the file, without duplicates, and bits per byte', async () => {
    const s = await e.summarize('doc', 8);
    assert.ok(s.lines.length > 0 && s.lines.length <= 8);
    const all = text.split('\n');
    for (let i = 0; i < s.lines.length; i++) {
      assert.strictEqual(s.lines[i].text, all[s.lines[i].line].replace(/\r$/, ''));
      if (i) assert.ok(s.lines[i].line > s.lines[i - 1].line);
    }
    assert.strictEqual(new Set(s.lines.map((l) => l.text.trim())).size, s.lines.length);
    const bits = direct.surprisal.subarray(1).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(s.bitsPerByte - bits / Buffer.byteLength(text)) < 1e-6);
    assert.strictEqual(s.tokens, ids.length - 1);
    assert.strictEqual(s.profile[0].startLine, 0);
    assert.strictEqual(s.profile[s.profile.length - 1].endLine, all.length - 1);
    // spread over the file: the file cut into 8 spans of equal tokens (of lines that can be
    // picked), each span's best line (by the scores summarize reports for every line when asked
    // for more lines than there are), skipping texts already picked
    const doc = e.document('doc');
    const big = await e.summarize('doc', 1000);
    const scoreOf = new Map(big.lines.map((l) => [l.line, l.score]));
    const lineTokens = (i: number) => doc.lineTokens(i).ids.length;
    const pickable = all.map((t, i) => i).filter((i) => { const t = all[i].replace(/\r$/, '').trim(); return t.length >= 2 && /[\p{L}\p{N}]/u.test(t) && lineTokens(i) > 0; });
    const total = pickable.reduce((a, i) => a + lineTokens(i), 0);
    const spans: number[][] = Array.from({ length: 8 }, () => []);
    let before = 0;
    for (const i of pickable) { spans[Math.min(7, Math.floor((before * 8) / total))].push(i); before += lineTokens(i); }
    const want: number[] = [];
    const seen = new Set<string>();
    for (const span of spans) {
      const best = span.filter((i) => scoreOf.has(i) && !seen.has(all[i].trim().replace(/\s+/g, ' ')))
        .sort((a, b) => scoreOf.get(b)! - scoreOf.get(a)! || a - b)[0];
      if (best !== undefined) { want.push(best); seen.add(all[best].trim().replace(/\s+/g, ' ')); }
    }
    assert.deepStrictEqual(s.lines.map((l) => l.line), want);
    // so no stretch of more than two spans' tokens lies between two key lines
    const tokenAt = (i: number) => doc.lineStartToken(i);
    for (let i = 1; i < s.lines.length; i++) assert.ok(tokenAt(s.lines[i].line) - tokenAt(s.lines[i - 1].line) <= (2 * doc.totalTokens) / 8 + 64);
  });
});
