// Scores after an edit, before the file is read again: the lines after an edit keep their tokens
// (tokenisation is line-local), so they keep their old scores at their new offsets until the
// re-read replaces them; the edited lines have none; reading again gives a fresh read's scores.
import * as assert from 'assert';
import type { TextEdit } from '../../src/engine/api';
import type { Engine } from '../../src/engine/engine';
import { Engine as EngineClass } from '../../src/engine/engine';
import { engine, maxRelDiff, randomEdits, sampleSource, TINY } from './helpers';

interface LineScores { text: string; tokens: { start: number; end: number; importance: number; surprisal: number }[] }

/** The scores the engine returns for the whole text, grouped by line (offsets within the line). */
async function scoresByLine(e: Engine, uri: string, text: string): Promise<Map<number, LineScores>> {
  const s = await e.scores(uri, 0, text.length);
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const lineOf = (off: number) => { let lo = 0, hi = starts.length - 1; while (lo < hi) { const m = (lo + hi + 1) >> 1; if (starts[m] <= off) lo = m; else hi = m - 1; } return lo; };
  const out = new Map<number, LineScores>();
  for (let i = 0; i < s.starts.length; i++) {
    const line = lineOf(s.starts[i]); // a line's newline token starts at its "\n": that line's
    const l = out.get(line) ?? { text: text.slice(starts[line], (starts[line + 1] ?? text.length + 1) - 1), tokens: [] };
    l.tokens.push({ start: s.starts[i] - starts[line], end: s.ends[i] - starts[line], importance: s.importance[i], surprisal: s.surprisal[i] });
    out.set(line, l);
  }
  return out;
}

/** Follows which original line each line is, through edits (-1: a line the edits touched). */
function trackLines(origin: number[], text: string, e: TextEdit): number[] {
  const lineAt = (off: number) => { let n = 0; for (let i = 0; i < off; i++) if (text[i] === '\n') n++; return n; };
  const a = lineAt(e.rangeOffset), b = lineAt(e.rangeOffset + e.rangeLength);
  const inserted = e.text.split('\n').length;
  return [...origin.slice(0, a), ...new Array<number>(inserted).fill(-1), ...origin.slice(b + 1)];
}

describe('scores after an edit, before reading again', function () {
  this.timeout(120_000);
  const base = sampleSource().slice(0, 6000) + '\r\nconst naïve = "😀";\n\tend();';

  for (const model of TINY) {
    it(`${model.split('/').pop()}: untouched lines keep their scores at their new offsets, edited lines have none, a re-read equals a fresh read`, async () => {
      for (const seed of [1, 2, 3]) {
        const e = await engine(model);
        await e.openDocument('doc', 1, base);
        await e.read('doc');
        const before = await scoresByLine(e, 'doc', base);
        let text = base;
        let origin = base.split('\n').map((_, i) => i);
        let v = 1;
        for (const step of randomEdits(100 + seed, base, 6)) {
          for (const ed of step.edits) { origin = trackLines(origin, text, ed); text = text.slice(0, ed.rangeOffset) + ed.text + text.slice(ed.rangeOffset + ed.rangeLength); }
          await e.applyEdits('doc', ++v, step.edits);
        }
        const after = await scoresByLine(e, 'doc', text);
        let untouched = 0;
        for (const [i, o] of origin.entries()) {
          const got = after.get(i);
          if (o < 0) { assert.strictEqual(got, undefined, `seed ${seed}: edited line ${i} has scores before it is read`); continue; }
          const want = before.get(o)!;
          assert.ok(got, `seed ${seed}: untouched line ${i} (was ${o}) lost its scores`);
          assert.strictEqual(got.text, want.text);
          assert.deepStrictEqual(got.tokens, want.tokens, `seed ${seed}: line ${i} (was ${o})`);
          untouched++;
        }
        assert.ok(untouched > origin.length / 2, `seed ${seed}: ${untouched} of ${origin.length} lines untouched`);
        // reading again replaces them: the scores are a fresh read's
        await e.read('doc');
        const fresh = await engine(model);
        await fresh.openDocument('doc', 1, text);
        await fresh.read('doc');
        const [a, b] = [await e.scores('doc', 0, text.length), await fresh.scores('doc', 0, text.length)];
        assert.deepStrictEqual(a.starts, b.starts);
        assert.ok(maxRelDiff(a.importance, b.importance) < 1e-5 && maxRelDiff(a.surprisal, b.surprisal) < 1e-5);
        await e.dispose();
        await fresh.dispose();
      }
    });
  }

  it('re-reading after an edit waits for a pause in typing, then runs without being asked', async () => {
    const e = await EngineClass.create({ modelDir: TINY[0], provider: 'cpu', threads: 2 });
    const text = base.repeat(2);
    await e.openDocument('doc', 1, text);
    await e.read('doc');
    const doc = e.document('doc');
    const mid = text.indexOf('\n', text.length / 2) + 1;
    await e.applyEdits('doc', 2, [{ rangeOffset: mid, rangeLength: 0, text: 'x' }]);
    const at = doc.readTokens;
    assert.ok(at < doc.totalTokens && doc.scoredEnd > at, 'stale scores after the edit');
    await new Promise((r) => setTimeout(r, 400));
    assert.strictEqual(doc.readTokens, at, 'no re-read within 400 ms of the edit');
    for (let i = 0; i < 200 && doc.readTokens < doc.totalTokens; i++) await new Promise((r) => setTimeout(r, 50));
    assert.strictEqual(doc.readTokens, doc.totalTokens, 're-read in the background after the pause');
    await e.dispose();
  });
});
