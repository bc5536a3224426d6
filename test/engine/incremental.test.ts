// After random edit sequences, the incrementally maintained state, logits and scores must equal
// a from-scratch read of the final text (within 1e-5), for both tiny models.
import * as assert from 'assert';
import * as path from 'path';
import type { CompletionRequest } from '../../src/engine/api';
import type { Engine } from '../../src/engine/engine';
import { seededRng } from '../../src/engine/sampling';
import { engine, maxRelDiff, maxStateDiff, randomEdits, sampleSource, TINY } from './helpers';

const TOL = 1e-5;

const INITIAL: [string, () => string][] = [
  ['empty file', () => ''],
  ['source file', () => sampleSource().slice(0, 2500)],
  ['CRLF, tabs, non-ASCII and astral text', () => 'line one\r\n\tcafé naïve\r\n😀 𝔘𝔫𝔦 中文\r\n\r\nint f(int a) {\r\n\treturn a;\r\n}\r\n'.repeat(6)],
  ['one long line', () => 'x = [' + Array.from({ length: 300 }, (_, i) => `${i}, "s${i}"`).join(', ') + ']'],
  // lines over LONG_LINE_CHARS are re-tokenised around an edit and keep their checkpoints before it
  ['long minified lines between short ones', () => 'import x;\n' + 'var a=function(b,c){return b+c*2},d="café\'s";'.repeat(40) + '\n\tshort();\n' + "x.y('z').w(1,2);".repeat(80) + '\n'],
];

async function fromScratch(dir: string, text: string) {
  const e = await engine(dir);
  await e.openDocument('doc', 1, text);
  await e.read('doc');
  const doc = e.document('doc');
  const fin = await e.finalState('doc');
  return { e, doc, ids: doc.tokenRange(0, doc.totalTokens), ...fin };
}

function greedy(offset: number, version: number, mode: 'line' | 'block', suffixLines: number): CompletionRequest {
  return { uri: 'doc', version, offset, maxTokens: 6, temperature: 0, topP: 1, timeBudgetMs: 10_000, mode, suffixLines };
}

describe('incremental state after random edits equals a from-scratch read', function () {
  this.timeout(120_000);
  for (const dir of TINY) {
    const model = path.basename(dir);
    INITIAL.forEach(([what, initial], i) => {
      it(`${model}: ${what}`, async () => {
        const seed = 1000 * i + (model.includes('delta') ? 7 : 3);
        const rnd = seededRng(seed);
        // small checkpoint spacing and runs, so edits land inside and across checkpoints; one
        // case has runs of 100 tokens: past the delta model's chunk limit of 64 (the split), and
        // past the Flowformer graph's short form (its blocked form runs, length_switch.py)
        const run = i === 1 ? 100 : 24;
        const a: Engine = await engine(dir, { checkpointEvery: 16, runTokens: run, urgentRunTokens: run });
        let text = initial();
        await a.openDocument('doc', 1, text);
        let version = 1;
        let checkpointsSeen = 0;
        for (const step of randomEdits(seed, text, 30)) {
          version++;
          await a.applyEdits('doc', version, step.edits);
          text = step.text;
          const r = rnd();
          const offset = Math.floor(rnd() * (text.length + 1));
          if (r < 0.35) await a.read('doc', offset);
          else if (r < 0.55 && !/[\udc00-\udfff]/.test(text[offset] ?? '') && text[offset - 1] !== '\r') {
            await a.complete(greedy(offset, version, rnd() < 0.5 ? 'line' : 'block', Math.floor(rnd() * 4)));
          }
          checkpointsSeen = Math.max(checkpointsSeen, a.document('doc').checkpoints.length);
          assert.strictEqual(a.document('doc').buf.text(), text, 'the engine\'s text follows the edits');
        }
        assert.ok(checkpointsSeen > 0, 'checkpoints were made along the way');
        await a.read('doc');
        const doc = a.document('doc');
        const fin = await a.finalState('doc');
        const b = await fromScratch(dir, text);
        assert.deepStrictEqual(Array.from(doc.tokenRange(0, doc.totalTokens)), Array.from(b.ids), 'token ids');
        assert.strictEqual(doc.readTokens, b.doc.readTokens);
        assert.ok(maxRelDiff(doc.importance.subarray(0, doc.readTokens), b.doc.importance.subarray(0, b.doc.readTokens)) < TOL, 'importance');
        assert.ok(maxRelDiff(doc.surprisal.subarray(1, doc.readTokens), b.doc.surprisal.subarray(1, b.doc.readTokens)) < TOL, 'surprisal');
        // a state value's float32 rounding follows its tensor's scale (helpers.maxStateDiff): two
        // reads of one text in runs of other lengths differ by up to 2e-5 per value there
        const tensors = a.runner.manifest.stateTensors;
        assert.ok(maxStateDiff(fin.state, b.state, tensors) < TOL, 'final state');
        assert.ok(maxRelDiff(fin.logits, b.logits) < TOL, 'final logits');
        // every kept checkpoint holds the state of one uninterrupted run over the final tokens
        const zero = new Float32Array(a.runner.manifest.stateSize);
        for (const c of doc.checkpoints.filter((_, k) => k % 3 === 0).slice(0, 12)) {
          const ref = await b.e.runner.run(b.ids.subarray(0, c.g), zero);
          assert.ok(maxStateDiff(c.state, ref.state, tensors) < TOL, `checkpoint at token ${c.g}`);
        }
        // and the same completion from both
        for (let k = 0; k < 3; k++) {
          const off = Math.floor(rnd() * (text.length + 1));
          if (/[\udc00-\udfff]/.test(text[off] ?? '') || text[off - 1] === '\r') continue;
          const ra = await a.complete(greedy(off, version, 'block', 2));
          const rb = await b.e.complete(greedy(off, 1, 'block', 2));
          assert.strictEqual(ra.text, rb.text, `completion at ${off}`);
        }
        await a.dispose();
        await b.e.dispose();
      });
    });
  }
});
