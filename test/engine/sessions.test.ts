// The runner's CPU sessions: bulk runs go to whichever of all-threads / one-thread has been
// faster lately (trying the other now and then, the less often the slower it is), and every
// session gives the same numbers.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { FasterOfTwo } from '../../src/engine/fasterOfTwo';
import { loadModel } from '../../src/engine/modelFolder';
import { runClass, RunShape, sessionChoices } from '../../src/engine/sessionChoice';
import { engine, maxRelDiff, ROOT, sampleSource, TINY } from './helpers';

describe('CPU sessions', function () {
  this.timeout(60_000);

  it('FasterOfTwo measures both, then keeps the faster and retries the other now and then, the less often the slower it is', () => {
    const f = new FasterOfTwo(4, 3);
    assert.strictEqual(f.pick(), 0);
    f.record(0, 12, 10); // 1.2 ms per unit
    assert.strictEqual(f.pick(), 1);
    f.record(1, 10, 10); // 1 ms per unit: faster
    assert.strictEqual(f.best, 1);
    // n picks, each run recorded at these costs; returns the picks of the choice that is not the best
    const tries = (n: number, ms0: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const c = f.pick();
        if (c !== f.best) k++;
        f.record(c, c === 0 ? ms0 : 10, 10);
      }
      return k;
    };
    assert.strictEqual(tries(40, 12), 2 + 7, 'measured once: tried every other pick until measured three times, then (1.2x slower) every 5th pick');
    for (let i = 0; i < 10; i++) f.record(0, 80, 10); // choice 0 becomes 8x slower
    assert.strictEqual(tries(64, 80), 2, '8x slower: tried every 32nd pick, so trying it costs the same share of time');
    // the load changes: choice 1 becomes slow; once most of its recent runs are, the best flips
    f.record(1, 100, 10);
    assert.strictEqual(f.best, 1, 'one slow run (a GC pause) is not a change');
    f.record(1, 100, 10);
    assert.strictEqual(f.best, 0, 'two of its last three are');
    assert.strictEqual(f.cost[1], 10, 'the median of the last three');
    const before = f.cost[0];
    f.record(0, 5, 0); // no work: ignored
    assert.strictEqual(f.cost[0], before);
  });

  it('FasterOfTwo does not try a choice where the trial would take far longer than the usual one', () => {
    const f = new FasterOfTwo(4, 3);
    assert.strictEqual(f.pick(65536, 200, 4096), 0);
    f.record(0, 72, 65536);                     // the GPU: ~1 us per token
    for (let i = 0; i < 20; i++) assert.strictEqual(f.pick(65536, 200, 4096), 0, 'never measured, and too long a run to try it on');
    assert.strictEqual(f.pick(1024, 200, 4096), 1, 'a short enough run tries it');
    f.record(1, 100, 1024);                     // the CPU: ~0.1 ms per token, 90x slower
    const tries = (n: number, units: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) {
        const c = f.pick(units, 200, 4096);
        if (c !== f.best) k++;
        f.record(c, c === 0 ? (72 * units) / 65536 : (100 * units) / 1024, units);
      }
      return k;
    };
    assert.strictEqual(tries(256, 65536), 0, 'a 6.4 s trial beside a 72 ms run: never, not even to settle its cost');
    assert.strictEqual(tries(256, 1024), 2 + 4, 'a 100 ms trial: twice more to settle its cost, then every 64th pick (16 x 4, the cap)');
    // a trial under the limit in time but over 4x the usual: still tried (load changes are noticed)
    const g = new FasterOfTwo(1, 3);
    g.record(0, 10, 10); g.record(1, 1000, 10);
    assert.ok(Array.from({ length: 32 }, () => g.pick(1, 200)).includes(1));
    // nor where it would take more than the caller's budget for trials (RunRouter: a share of all runs' time)
    const b = new FasterOfTwo(1, 3);
    b.record(0, 10, 10); b.record(1, 50, 10);
    assert.ok(!Array.from({ length: 32 }, () => b.pick(10, 200, 4096, 49)).includes(1), 'a 50 ms trial, 49 ms left');
    assert.ok(Array.from({ length: 32 }, () => b.pick(10, 200, 4096, 50)).includes(1), 'a 50 ms trial, 50 ms left');
    const never = new FasterOfTwo(1, 3);
    never.record(0, 10, 10);
    assert.strictEqual(never.pick(10, 200, 4096, 0), 0, 'never measured: tried only while some budget is left');
    assert.strictEqual(never.pick(10, 200, 4096, 1), 1);
    // a new chooser takes the costs it lacks from another one
    const h = new FasterOfTwo(4, 3);
    h.record(0, 50, 10);
    h.seedFrom(f);
    assert.strictEqual(h.cost[0], 5);
    assert.strictEqual(h.cost[1], f.cost[1]);
  });

  /** 450 decoding steps beside a GPU (CPU 2 ms, GPU 6 ms), CPU step `slowStep` a 100 ms GC pause: how many went to the GPU. */
  function stepsOnGpu(f: FasterOfTwo, slowStep: number): number {
    let onGpu = 0;
    for (let i = 0; i < 450; i++) {
      const c = f.pick(1, 200, 4096);
      if (c === 1) onGpu++;
      f.record(c, c === 1 ? 6 : i === slowStep ? 100 : 2, 1);
    }
    return onGpu;
  }

  it('FasterOfTwo: one slow run of the usual choice does not send the following runs to a slower one', () => {
    // decoding beside a GPU: the CPU step graph ~2 ms, the GPU ~6 ms, and one 100 ms CPU run
    // (a GC pause) early on; with an average of costs this sent ~100 of 450 steps to the GPU
    const f = new FasterOfTwo(64, 5);
    const onGpu = stepsOnGpu(f, 8);
    assert.ok(onGpu <= 5, `${onGpu} of 450 steps on the GPU`);
    assert.strictEqual(f.best, 0);
    // a lasting change is still followed: the CPU gets slower than the GPU (another process)
    for (let i = 0; i < 3; i++) f.record(0, 9, 1);
    assert.strictEqual(f.best, 1);
  });

  it('FasterOfTwo: one slow first run of the usual choice does not send the following runs to the other', () => {
    // beside the H200 (session 18, host E): the first CPU step after a long GPU read took 100 ms
    // (a GC pause), the GPU's took 6 ms, and the CPU, then retried every 1,024th pick, got 2 of
    // the next 563 steps
    const f = new FasterOfTwo(64, 5);
    const onGpu = stepsOnGpu(f, 0);
    assert.ok(onGpu <= 6, `${onGpu} of 450 steps on the GPU`);
    assert.strictEqual(f.best, 0);
  });

  it('FasterOfTwo: after a burst of slow runs of the usual choice, its trials bring it back within a few dozen runs', () => {
    // reading on this 2-core machine: all threads 0.09 ms per token, one thread 0.14; three runs
    // on all threads at 0.18 (another process took a core) flip it to one thread; a trial of the
    // threads after a stretch on one thread is sometimes slow too (0.165: its threads woke cold)
    const f = new FasterOfTwo(16, 5);
    let trials = 0;
    const run = (slow0: boolean) => {
      const c = f.pick(1000);
      const cold = c === 0 && f.best === 1 && trials++ % 2 === 0;
      f.record(c, c === 1 ? 140 : slow0 ? 180 : cold ? 165 : 90, 1000);
      return c;
    };
    for (let i = 0; i < 60; i++) run(false);
    assert.strictEqual(f.best, 0);
    for (let i = 0; i < 3; i++) run(true);
    assert.strictEqual(f.best, 1, 'the burst moves it to one thread');
    let onOne = 0;
    for (let i = 0; i < 200; i++) onOne += run(false);
    assert.strictEqual(f.best, 0);
    // with the burst's runs counted until newer trials outvote them in the median: 106
    assert.ok(onOne <= 70, `${onOne} of 200 runs after the burst on one thread`);
  });

  it('routing: a completion\'s next token goes to the quantized one-token graph, beside a GPU too; a document\'s tokens never do', () => {
    const shape = (tokens: number, purpose: RunShape['purpose'], hasGpu: boolean): RunShape => ({ tokens, purpose, hasGpu, bulkMinTokens: 32 });
    // beside a GPU: reading stays on the float graph (GPU or its CPU form), so checkpoints and
    // scores do not depend on where a run went; a decoding step may go to the int8 step graph
    // (a single token's GPU choice is the float one-token graph there: no If, fixed shapes)
    assert.deepStrictEqual(sessionChoices(shape(1, 'decode', true)), ['decodeStep', 'decodeStep'], 'decoding steps never go to the GPU');
    assert.deepStrictEqual(sessionChoices(shape(1, 'read', true)), ['cpuStep', 'gpuStep']);
    assert.deepStrictEqual(sessionChoices(shape(5, 'decode', true)), ['cpuShort', 'gpu'], 'only single tokens have a step graph');
    assert.deepStrictEqual(sessionChoices(shape(4096, 'read', true)), ['gpu', 'cpuThreads']);
    assert.deepStrictEqual(sessionChoices(shape(32, 'decode', true)), ['gpu', 'cpuThreads']);
    // CPU only: no second choice for short runs; bulk runs between all threads and one
    assert.deepStrictEqual(sessionChoices(shape(1, 'decode', false)), ['decodeStep', 'decodeStep']);
    assert.deepStrictEqual(sessionChoices(shape(1, 'read', false)), ['cpuStep', 'cpuStep']);
    assert.deepStrictEqual(sessionChoices(shape(31, 'read', false)), ['cpuShort', 'cpuShort']);
    assert.deepStrictEqual(sessionChoices(shape(32, 'read', false)), ['cpuThreads', 'cpuOneThread']);
    // with the step graph also open on several threads (RunnerOptions.decodeThreads) that is a
    // decoding step's second choice, beside a GPU too; a document's single tokens and short runs
    // are unchanged
    const many = (tokens: number, purpose: RunShape['purpose'], hasGpu: boolean): RunShape => ({ ...shape(tokens, purpose, hasGpu), hasDecodeThreads: true });
    assert.deepStrictEqual(sessionChoices(many(1, 'decode', true)), ['decodeStep', 'decodeStepThreads']);
    assert.deepStrictEqual(sessionChoices(many(1, 'decode', false)), ['decodeStep', 'decodeStepThreads']);
    assert.deepStrictEqual(sessionChoices(many(1, 'read', true)), ['cpuStep', 'gpuStep']);
    assert.deepStrictEqual(sessionChoices(many(5, 'decode', false)), ['cpuShort', 'cpuShort']);
    // decoding steps and a document's single tokens keep separate speed records (other sessions)
    assert.notDeepStrictEqual(runClass(shape(1, 'decode', true)), runClass(shape(1, 'read', true)));
    assert.deepStrictEqual(runClass(shape(3, 'decode', true)), runClass(shape(3, 'read', true)));
    assert.deepStrictEqual(runClass(shape(40, 'read', true)), { kind: 'bulk', size: 5 });
  });

  it('a completion\'s decoding steps reach the runner as decode runs, on the one-token graph when the model has one', async function () {
    const dir = path.join(ROOT, 'models', 'flowformer');
    if (!fs.existsSync(dir)) this.skip();
    // ends with a line break: the cursor's line is empty, so no run of the line's own tokens
    // (one token long, it would go to the step graph too) comes before the decoding steps
    const head = sampleSource().slice(0, 3000);
    const text = head.slice(0, head.lastIndexOf('\n') + 1);
    const e = await engine(dir);
    try {
      await e.openDocument('doc', 1, text);
      await e.read('doc');
      assert.strictEqual(e.runner.stats.decodeRuns, 0, 'reading a document makes no decode runs');
      const s0 = { ...e.runner.stats };
      const r = await e.complete({ uri: 'doc', version: 1, offset: text.length, maxTokens: 12, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block', suffixLines: 0, stopOnRepetition: false });
      const decodes = e.runner.stats.decodeRuns - s0.decodeRuns;
      // one run after each token but the last (a max_tokens or stop-string stop), or after each
      // token (a stop before the next one)
      assert.ok(r.tokens >= 2 && (decodes === r.tokens - 1 || decodes === r.tokens), `${decodes} decode runs for ${r.tokens} tokens (${r.stoppedBy})`);
      assert.strictEqual(e.runner.stats.stepRuns - s0.stepRuns, decodes, 'each on the int8 step graph');
    } finally {
      await e.dispose();
    }
  });

  it('decodeThreads: decoding steps go to the step graph on one thread and on several, with the same outputs', async function () {
    const dir = path.join(ROOT, 'models', 'flowformer');
    if (!fs.existsSync(dir)) this.skip();
    const one = await loadModel(dir, { provider: 'cpu', threads: 2, decodeThreads: 1 });
    const two = await loadModel(dir, { provider: 'cpu', threads: 2, decodeThreads: 2 });
    try {
      const tokens = Int32Array.from({ length: 80 }, (_, i) => 5 + ((i * 7919) % 16000));
      let a: Float32Array = new Float32Array(one.manifest.stateSize);
      let b: Float32Array = new Float32Array(two.manifest.stateSize);
      for (let i = 0; i < tokens.length; i++) {
        const x = await one.runner.run(tokens.subarray(i, i + 1), a, 'decode');
        const y = await two.runner.run(tokens.subarray(i, i + 1), b, 'decode');
        assert.ok(maxRelDiff(y.logits, x.logits) < 1e-5 && maxRelDiff(y.state, x.state) < 1e-5, `step ${i}`);
        a = x.state;
        b = y.state;
      }
      assert.strictEqual(one.runner.stats.stepThreadsRuns, 0);
      assert.strictEqual(two.runner.stats.stepRuns, tokens.length, 'every step on the int8 step graph');
      const several = two.runner.stats.stepThreadsRuns;
      assert.ok(several >= 1 && several < tokens.length, `${several} of ${tokens.length} steps on two threads: both sessions tried`);
    } finally {
      await one.runner.dispose();
      await two.runner.dispose();
    }
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
      // each session ran (the first run on all threads, the next on one; a much slower one is
      // retried rarely), and every run above equalled the first
      assert.ok(all >= 1 && one >= 1, `both sessions ran: ${all} on all threads, ${one} on one`);
      const [msAll, msOne] = runner.stats.bulkMs;
      assert.ok(msAll > 0 && msOne > 0 && msAll + msOne <= runner.stats.ms + 1e-6, 'each choice\'s time, within the runs\' total');
      await runner.run(tokens.subarray(0, 4), state);
      assert.strictEqual(runner.stats.bulkRuns[0] + runner.stats.bulkRuns[1], 41, 'a 4-token run is not a bulk run');
    } finally {
      await runner.dispose();
    }
  });
  // A shipped model's long CPU graph from min_tokens on and its short form below: the DeltaNet's
  // long form starts at 2 tokens and single tokens have the step graph, so no run goes to the
  // short form and it is not opened (its int8 weights would be held once more).
  const shipped = ['flowformer', 'deltanet'].map((n) => path.join(ROOT, 'models', n)).filter((d) => fs.existsSync(path.join(d, 'manifest.json')));
  for (const dir of shipped) {
    it(`${path.basename(dir)}: the short CPU graph is open only when some run goes to it`, async () => {
      const { runner, manifest: m } = await loadModel(dir, { provider: 'cpu', threads: 2 });
      try {
        assert.ok(m.graphCpuLongFile && m.graphCpuStepFile, 'the shipped models have a long and a step graph');
        const shortRuns = m.graphCpuLongMinTokens! > 2;
        assert.strictEqual(runner.sharesSession('cpuShort', 'cpuOneThread'), !shortRuns);
        const state = new Float32Array(m.stateSize);
        for (const n of [1, 2, 3]) {
          const out = await runner.run(Int32Array.from({ length: n }, (_, i) => 300 + i), state);
          assert.ok(out.logits.every(Number.isFinite) && out.surprisal.length === n);
        }
        assert.strictEqual(runner.stats.stepRuns, 1, 'the single token ran on the step graph');
        assert.strictEqual(runner.stats.bulkRuns[0] + runner.stats.bulkRuns[1], shortRuns ? 0 : 2, 'runs of 2 and 3 tokens: bulk runs from min_tokens on');
      } finally {
        await runner.dispose();
      }
    });
  }
});
