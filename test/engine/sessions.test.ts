// The runner's CPU sessions: bulk runs go to whichever of all-threads / one-thread has been
// faster lately (trying the other now and then), and every session gives the same numbers.
import * as assert from 'assert';
import { FasterOfTwo } from '../../src/engine/fasterOfTwo';
import { loadModel } from '../../src/engine/modelFolder';
import { maxRelDiff, TINY } from './helpers';

describe('CPU sessions', function () {
  this.timeout(60_000);

  it('FasterOfTwo measures both, then keeps the faster and retries the other every n-th pick', () => {
    const f = new FasterOfTwo(4, 0.5);
    assert.strictEqual(f.pick(), 0);
    f.record(0, 30, 10); // 3 ms per unit
    assert.strictEqual(f.pick(), 1);
    f.record(1, 10, 10); // 1 ms per unit: faster
    const picks: number[] = [];
    for (let i = 0; i < 8; i++) picks.push(f.pick());
    assert.deepStrictEqual(picks, [1, 0, 1, 1, 1, 0, 1, 1], 'the slower one every 4th pick');
    // the load changes: choice 1 becomes slow; the average follows and the best flips
    for (let i = 0; i < 4; i++) f.record(1, 60, 10);
    assert.strictEqual(f.best, 0);
    assert.ok(Math.abs(f.cost[1] - (0.5 ** 4 * 1 + (1 - 0.5 ** 4) * 6)) < 1e-12);
    f.record(0, 5, 0); // no work: ignored
    assert.strictEqual(f.cost[0], 3);
  });

  it('bulk runs use both sessions and get the same outputs from each; short runs stay on one thread', async () => {
    const { runner, manifest } = await loadModel(TINY[0], { provider: 'cpu', threads: 2 });
    try {
      const tokens = Int32Array.from({ length: 64 }, (_, i) => 5 + ((i * 7919) % 16000));
      const state = new Float32Array(manifest.stateSize);
      const first = await runner.run(tokens, state);
      for (let i = 0; i < 40; i++) {
        const out = await runner.run(tokens, state);
        assert.ok(maxRelDiff(out.state, first.state) < 1e-6 && maxRelDiff(out.logits, first.logits) < 1e-6, `run ${i}`);
        assert.ok(maxRelDiff(out.surprisal, first.surprisal) < 1e-6 && maxRelDiff(out.importance, first.importance) < 1e-6, `run ${i}`);
      }
      const [all, one] = runner.stats.bulkRuns;
      assert.strictEqual(all + one, 41);
      assert.ok(all >= 2 && one >= 2, `both sessions ran: ${all} on all threads, ${one} on one`);
      await runner.run(tokens.subarray(0, 4), state);
      assert.strictEqual(runner.stats.bulkRuns[0] + runner.stats.bulkRuns[1], 41, 'a 4-token run is not a bulk run');
    } finally {
      await runner.dispose();
    }
  });
});
