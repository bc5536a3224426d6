// Run pacing and stopping between runs. A model run holds the engine's event loop until it ends
// (ONNX Runtime runs synchronously), so (1) runs get shorter while they are slow (a loaded
// machine), keeping the wait for the run under way short, and (2) a cancel or an edit that came
// in during a run stops the request before its next run starts, not one run later.
import * as assert from 'assert';
import { CancelledError, newCancelToken } from '../../src/engine/cancellation';
import { CheckpointBudget } from '../../src/engine/checkpoints';
import { Document } from '../../src/engine/document';
import { loadManifest } from '../../src/engine/manifest';
import { loadTokenizer } from '../../src/engine/modelFolder';
import type { ModelRunner, RunOutput } from '../../src/engine/modelRunner';
import { Priority, PriorityGate } from '../../src/engine/priorityGate';
import { Replayer, StaleError } from '../../src/engine/replay';
import { RunPacer } from '../../src/engine/runPacer';
import { busyWait, engine, sampleSource, TINY } from './helpers';

/** A stand-in runner: each run blocks for msPerToken per token (changeable: the machine's load). */
class SlowRunner {
  msPerToken = 0.01;
  runs: { tokens: number; ms: number; at: number }[] = [];
  readonly manifest = { stateSize: 4 };
  async run(tokens: Int32Array, state: Float32Array): Promise<RunOutput> {
    const t0 = performance.now();
    busyWait(tokens.length * this.msPerToken);
    this.runs.push({ tokens: tokens.length, ms: performance.now() - t0, at: t0 });
    const n = tokens.length;
    return { logits: new Float32Array(8), state: Float32Array.from(state, (x) => x + n), importance: new Float32Array(n), surprisal: new Float32Array(n) };
  }
}

function setup(targetMs: number) {
  const manifest = loadManifest(TINY[0]);
  const tokenizer = loadTokenizer(manifest);
  const runner = new SlowRunner();
  const replayer = new Replayer(runner as unknown as ModelRunner, new PriorityGate(), { checkpointEvery: 1 << 20, runTokens: 1024, urgentRunTokens: 1024, runTargetMs: targetMs });
  const doc = new Document('doc', 1, sampleSource().repeat(8), 'typescript', tokenizer, new CheckpointBudget(1 << 30), manifest.special.fim_prefix);
  return { runner, replayer, doc };
}

describe('run pacing', function () {
  this.timeout(60_000);

  it('RunPacer: a slow run shortens the next to fit the target; quick runs lengthen them at most 2x per run', () => {
    const p = new RunPacer(100, 1024, 64);
    assert.strictEqual(p.maxRun, 1024);
    p.record(1024, 400);   // 4x over: a quarter of the tokens
    assert.strictEqual(p.maxRun, 256);
    p.record(256, 1000);   // 10x over: 25 tokens would fit, but runs keep at least 64
    assert.strictEqual(p.maxRun, 64);
    p.record(64, 10);      // 640 would fit: at most twice the length
    assert.strictEqual(p.maxRun, 128);
    p.record(8, 5000);     // a decoding run says nothing about long runs
    assert.strictEqual(p.maxRun, 128);
    for (let i = 0; i < 6; i++) p.record(p.maxRun, p.maxRun / 100);
    assert.strictEqual(p.maxRun, 1024, 'never past the configured length');
    p.record(40, 0.5);     // a short run (its target came first) that was quick: no harm
    assert.strictEqual(p.maxRun, 1024);
  });

  it('while runs are slow, a request reads in runs that each take about the target; quick again, long runs come back; a waiting request starts short', async () => {
    const { runner, replayer, doc } = setup(60);
    const g = doc.totalTokens;
    assert.ok(g > 20_000, `${g} tokens`);
    runner.msPerToken = 0.002;   // a quiet machine: 1,024 tokens in 2 ms
    await replayer.advance(doc, replayer.startFor(doc, 0), 4096, { priority: Priority.Interactive });
    // someone waits: the first run is short (how slow runs are is unknown), then they double
    const quiet = runner.runs.map((r) => r.tokens);
    assert.ok(quiet[0] <= 256 && quiet[1] <= 512 && quiet.slice(2, -1).every((n) => n > 900), `quiet: ${quiet}`);
    // background reading (one run per step) starts long
    runner.runs = [];
    await replayer.advance(doc, replayer.startFor(doc, 4096), 5000, { priority: Priority.Background });
    assert.ok(runner.runs[0].tokens > 800, `background: ${runner.runs.map((r) => r.tokens)}`);
    // the machine gets busy: 1 ms a token, so a 1,024-token run would hold the loop for a second
    runner.runs = [];
    runner.msPerToken = 1;
    await replayer.advance(doc, replayer.startFor(doc, 5000), 5600, { priority: Priority.Interactive });
    const [first, ...rest] = runner.runs;
    assert.ok(first.tokens <= 256, `the first run after the change cannot know, but is short: ${first.tokens} tokens, ${first.ms.toFixed(0)} ms`);
    assert.ok(rest.length >= 3, `${rest.length} more runs`);
    // run ends move to line starts, up to a quarter of the run shorter; never longer than asked
    for (const r of rest) assert.ok(r.tokens <= 64 || r.ms < 60 * 1.5, `a run of ${r.tokens} tokens took ${r.ms.toFixed(0)} ms (target 60)`);
    // quiet again: the runs lengthen back, at most twice as long each time
    runner.runs = [];
    runner.msPerToken = 0.002;
    await replayer.advance(doc, replayer.startFor(doc, 5600), 12_000, { priority: Priority.Read });
    const lengths = runner.runs.map((r) => r.tokens);
    // from 64 tokens (the slow stretch's last length), the limit at most doubles per run
    for (let i = 0; i < lengths.length; i++) assert.ok(lengths[i] <= 64 * 2 ** (i + 1), `lengths ${lengths}`);
    assert.ok(lengths[lengths.length - 2] > 700, `long runs again: ${lengths}`);
  });

  it('a cancel that comes in during a run stops the request before its next run', async () => {
    const { runner, replayer, doc } = setup(1000);
    runner.msPerToken = 0.08;   // ~80 ms per 1,024-token run
    const cancel = newCancelToken();
    const timer = setTimeout(() => cancel.cancel(), 20);   // arrives while the first run holds the loop
    const t0 = performance.now();
    await assert.rejects(replayer.advance(doc, replayer.startFor(doc, 0), 20_000, { priority: Priority.Interactive, cancel }), CancelledError);
    clearTimeout(timer);
    assert.strictEqual(runner.runs.length, 1, `runs after the cancel: ${runner.runs.length - 1}`);
    assert.ok(performance.now() - t0 < 200);
  });

  it('an edit that comes in during a run stops the request before its next run (stale)', async () => {
    const { runner, replayer, doc } = setup(1000);
    runner.msPerToken = 0.08;
    const timer = setTimeout(() => doc.applyEdits([{ rangeOffset: 0, rangeLength: 0, text: 'x' }], 2), 20);
    await assert.rejects(replayer.advance(doc, replayer.startFor(doc, 0), 20_000, { priority: Priority.Interactive }), StaleError);
    clearTimeout(timer);
    assert.strictEqual(runner.runs.length, 1, `runs after the edit: ${runner.runs.length - 1}`);
  });
});

describe('tokenising without holding the event loop', function () {
  this.timeout(60_000);
  // new text the tokenizer has not seen (it caches lines): distinct identifiers on every line
  const novel = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `  const q${seed}x${i} = w${(i * 7919) % 10007}z(p${i}, "${(i * 104729).toString(36)}");\n`).join('');

  it('a big paste drops the stale scores after it rather than tokenising all of it in the edit; a small one keeps them', async () => {
    const e = await engine(TINY[0]);
    try {
      const text = sampleSource();
      await e.openDocument('doc', 1, text);
      await e.read('doc');
      const doc = e.document('doc');
      const lines = doc.lineCount;
      await e.applyEdits('doc', 2, [{ rangeOffset: text.indexOf('\n') + 1, rangeLength: 0, text: novel(5, 1) }]);
      assert.ok(doc.hasStaleScores, 'a 5-line paste keeps the scores after it (shifted)');
      await e.applyEdits('doc', 3, [{ rangeOffset: text.indexOf('\n') + 1, rangeLength: 0, text: novel(30_000, 2) }]);
      assert.ok(!doc.hasStaleScores, 'a 30,000-line paste drops them');
      assert.ok(doc.tokenizedLines < 10_000, `the edit tokenised ${doc.tokenizedLines} of ${lines + 30_005} lines`);
    } finally {
      await e.dispose();
    }
  });

  it('a completion after a big paste tokenises the lines before the cursor in slices: a cancel stops it midway', async () => {
    const e = await engine(TINY[0]);
    try {
      const text = novel(20_000, 3) + sampleSource();
      await e.openDocument('doc', 1, text);
      const doc = e.document('doc');
      const req = { uri: 'doc', version: 1, offset: text.length - 10, maxTokens: 4, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block' as const, suffixLines: 0 };
      const p = e.complete(req, 'c');
      setTimeout(() => void e.cancel('c'), 30);
      const r = await p;
      assert.strictEqual(r.stoppedBy, 'cancelled');
      assert.ok(doc.tokenizedLines < 20_000, `tokenised ${doc.tokenizedLines} lines before stopping (of ${doc.lineCount})`);
      assert.ok(r.msTotal < 500, `${r.msTotal.toFixed(0)} ms`);
      // left alone, the slices go on to the cursor's line
      await doc.tokenizeUpTo(doc.lineCount);
      assert.strictEqual(doc.tokenizedLines, doc.lineCount);
    } finally {
      await e.dispose();
    }
  });
});
