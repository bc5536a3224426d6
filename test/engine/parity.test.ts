// The ONNX graph run by the engine (CPU provider) against the PyTorch outputs committed as fixtures.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { loadModel } from '../../src/engine/modelFolder';
import { f32, FIXTURES, maxRelDiff, maxStateDiff, ROOT, TINY } from './helpers';

/** Every model folder with a committed fixture of its name: the tiny test models and the shipped
 *  models (strided values). */
const MODELS = fs.readdirSync(path.join(ROOT, 'models')).map((n) => path.join(ROOT, 'models', n))
  .filter((dir) => fs.existsSync(path.join(FIXTURES, `${path.basename(dir)}.json`)) && fs.existsSync(path.join(dir, 'manifest.json')));

const strided = (a: Float32Array, k: number) => (k === 1 ? a : a.filter((_, i) => i % k === 0));

describe('parity with the PyTorch fixtures (CPU provider)', () => {
  it('covers both tiny models', () => assert.ok(TINY.every((d) => MODELS.includes(d))));
  for (const dir of MODELS) {
    const name = path.basename(dir);
    it(`${name}: logits, state, importance and surprisal within 1e-4`, async () => {
      const fx = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as { logits_stride?: number; state_stride?: number; steps: { tokens: number[]; logits: string; state_out: string; importance: number[]; surprisal: number[] }[] };
      const { runner, manifest } = await loadModel(dir, { provider: 'cpu', threads: 2, cpuGraph: 'float' });
      assert.strictEqual(runner.provider, 'cpu');
      let state: Float32Array = new Float32Array(manifest.stateSize);
      assert.ok(fx.steps.length >= 3);
      for (const step of fx.steps) {
        const out = await runner.run(Int32Array.from(step.tokens), state);
        assert.ok(maxRelDiff(strided(out.logits, fx.logits_stride ?? 1), f32(step.logits)) < 1e-4, 'logits');
        assert.ok(maxStateDiff(out.state, f32(step.state_out), manifest.stateTensors, fx.state_stride ?? 1) < 1e-4, 'state');
        assert.ok(maxRelDiff(out.importance, step.importance) < 1e-4, 'importance');
        // the first token's surprisal of a document is meaningless (nothing before it)
        const skip = state.every((x) => x === 0) ? 1 : 0;
        assert.ok(maxRelDiff(out.surprisal.subarray(skip), step.surprisal.slice(skip)) < 1e-4, 'surprisal');
        state = out.state;
      }
      // single tokens ran on the float one-token graph where the folder has one
      const ones = fx.steps.filter((st) => st.tokens.length === 1).length;
      assert.ok(ones >= 1, 'the fixture has a one-token chunk');
      assert.strictEqual(runner.stats.floatStepRuns, manifest.graphStepFile ? ones : 0);
      await runner.dispose();
    });
  }
});
