// Where reading runs go beside a GPU, with the engine's own reading loop (BackgroundReader,
// Replayer, RunPacer) and router (RunRouter) over simulated sessions whose run times follow the
// costs measured beside an H200: the GPU has a fixed cost per run and reads ~1M tokens/s, its
// host's CPU threads ~25k. Trials of the CPU for reading runs cost 100-200 ms each there.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CheckpointBudget } from '../../src/engine/checkpoints';
import { Document } from '../../src/engine/document';
import { loadManifest } from '../../src/engine/manifest';
import { loadTokenizer } from '../../src/engine/modelFolder';
import type { ModelRunner, RunOutput } from '../../src/engine/modelRunner';
import { Priority, PriorityGate } from '../../src/engine/priorityGate';
import { BackgroundReader } from '../../src/engine/reader';
import { Replayer } from '../../src/engine/replay';
import { RunRouter } from '../../src/engine/runRouter';
import type { RunPurpose, SessionRole } from '../../src/engine/sessionChoice';
import { newCancelToken } from '../../src/engine/cancellation';
import { seededRng } from '../../src/engine/sampling';
import { busyWait, ROOT, TINY } from './helpers';

type Costs = Record<SessionRole, (tokens: number) => number>;

/** Simulated run times in ms beside an H200 (bench/results/gpu-session18.txt, gpu-session22.txt). */
const H200: Costs = {
  gpu: (t) => 3 + 0.001 * t,         // 16,384 tokens ~19 ms (0.85M tokens/s), 256 ~3.3 ms
  gpuStep: () => 4,
  cpuThreads: (t) => 0.5 + 0.04 * t, // the float graph on the host's threads, 25k tokens/s: 2,048 tokens ~82 ms
  cpuOneThread: (t) => 0.5 + 0.3 * t,
  cpuShort: (t) => 1 + 0.3 * t,
  cpuStep: () => 2,
  decodeStep: () => 1.5,
  decodeStepThreads: () => 1.5,
};

/** A GPU slower than the CPU's threads at every run length (a small laptop GPU, say). */
const WEAK_GPU: Costs = { ...H200, gpu: (t) => 3 + 0.03 * t, cpuThreads: (t) => 0.5 + 0.01 * t };

/** A runner with a GPU whose sessions take COST's times; routes with the engine's RunRouter. */
class SimulatedGpuRunner {
  constructor(private readonly costs: Costs) {}
  readonly manifest = { stateSize: 4 };
  readonly maxBulkRun = 16384;
  readonly router = new RunRouter((a, b) => a !== b);
  readonly bulkRuns: [number, number] = [0, 0];
  readonly bulkMs: [number, number] = [0, 0];
  /** Sessions whose first run is done (ModelRunner: the CPU's bulk session beside a GPU is run once at load). */
  private readonly warmed = new Set<SessionRole>(['cpuThreads']);

  async run(tokens: Int32Array, state: Float32Array, purpose: RunPurpose = 'read'): Promise<RunOutput> {
    const n = tokens.length;
    const route = this.router.route({ tokens: n, purpose, bulkMinTokens: 32, hasGpu: true });
    const t0 = performance.now();
    // the GPU splits longer runs at its chunk limit, each piece with its fixed cost
    const pieces = route.role === 'gpu' ? Math.ceil(n / this.maxBulkRun) : 1;
    for (let i = 0; i < pieces; i++) busyWait(this.costs[route.role](Math.min(this.maxBulkRun, n - i * this.maxBulkRun)));
    const ms = performance.now() - t0;
    this.router.record(route, ms, n, this.warmed.has(route.role));
    this.warmed.add(route.role);
    if (n >= 32) { this.bulkRuns[route.choice]++; this.bulkMs[route.choice] += ms; }
    return { logits: new Float32Array(8), state: Float32Array.from(state, (x) => x + n), importance: new Float32Array(n), surprisal: new Float32Array(n), trial: route.trial };
  }
}

interface ReadRow { label: string; tokens: number; ms: number; runs: [number, number]; bulkMs: [number, number] }

/**
 * Reads files of these sizes one after another with the engine's reading loop, as the bench
 * does, then asks for the state at `jumps` random places of the last one (a completion after a
 * jump: an interactive request, whose runs start short and double).
 */
async function readFiles(costs: Costs, sizes: [string, number][], jumps: number) {
  const manifest = loadManifest(TINY[0]);
  const tokenizer = loadTokenizer(manifest);
  const runner = new SimulatedGpuRunner(costs);
  // the engine's configuration beside a GPU: runs as long as the GPU takes whole (engine.ts)
  const replayer = new Replayer(runner as unknown as ModelRunner, new PriorityGate(), { checkpointEvery: 2816, runTokens: runner.maxBulkRun, urgentRunTokens: runner.maxBulkRun });
  const docs: Document[] = [];
  const reader = new BackgroundReader(() => docs, replayer, { background: true, editDebounceMs: 0, refreshDebounceMs: 0, activeMs: 0 }, () => undefined, () => undefined);
  reader.start();
  // the shipped sample, not a source file of the repo: what the reads do depends on the exact
  // token counts (which run lengths are new), so the input must not change with the code
  const source = fs.readFileSync(path.join(ROOT, 'samples', 'mypy_semanal.py'), 'utf8');
  const rows: ReadRow[] = [];
  const since = (before: { runs: number[]; ms: number[] }, label: string, tokens: number, ms: number) => rows.push({
    label, tokens, ms,
    runs: [runner.bulkRuns[0] - before.runs[0], runner.bulkRuns[1] - before.runs[1]],
    bulkMs: [runner.bulkMs[0] - before.ms[0], runner.bulkMs[1] - before.ms[1]],
  });
  const snapshot = () => ({ runs: [...runner.bulkRuns], ms: [...runner.bulkMs] });
  let doc: Document | undefined;
  try {
    for (const [label, bytes] of sizes) {
      const text = source.repeat(Math.ceil(bytes / source.length)).slice(0, bytes);
      doc = new Document(label, 1, text, 'python', tokenizer, new CheckpointBudget(1 << 30), manifest.special.fim_prefix);
      docs.push(doc);
      const before = snapshot();
      const t0 = performance.now();
      reader.wake();
      while (!BackgroundReader.isRead(doc)) await reader.waitFor(doc, Number.MAX_SAFE_INTEGER, newCancelToken());
      since(before, `read ${label}`, doc.totalTokens, performance.now() - t0);
    }
    const rng = seededRng(7);
    const before = snapshot();
    const t0 = performance.now();
    for (let i = 0; i < jumps; i++) {
      const g = 1 + Math.floor(rng() * (doc!.totalTokens - 1));
      // the place's nearest checkpoint is dropped so that the request reads from an earlier one
      await replayer.stateAt(doc!, g, true, { priority: Priority.Interactive, from: doc!.bestCheckpoint(Math.max(0, g - 2 * 2816)) });
    }
    since(before, `${jumps} jumps`, 0, performance.now() - t0);
  } finally {
    await reader.dispose();
  }
  if (jumps === 0) rows.pop();
  const table = rows.map((r) => `${r.label}: ${r.tokens} tokens in ${r.ms.toFixed(0)} ms; bulk runs GPU / CPU ${r.runs.join(' / ')}, ${r.bulkMs.map((x) => x.toFixed(0)).join(' / ')} ms`).join('\n');
  return { rows, table, runner };
}

describe('routing beside a GPU (simulated)', function () {
  this.timeout(120_000);

  it('beside an H200, reading files and jumping sends little reading time to the CPU once each run length has been tried', async () => {
    const sizes: [string, number][] = [['1 KB', 1e3], ['100 KB', 1e5], ['1 MB', 1e6], ['another 1 MB', 1e6 + 7]];
    const { rows, table, runner } = await readFiles(H200, sizes, 12);
    console.log(table);
    const share = (r: { bulkMs: [number, number] }) => r.bulkMs[1] / (r.bulkMs[0] + r.bulkMs[1]);
    assert.ok(runner.bulkRuns[1] > 0, `the CPU was never tried:\n${table}`);
    // the first trials of each session cost what they cost (RunRouter's allowance); after them,
    // trials take a small share
    assert.ok(share(runner) <= 0.25, `reading time on the CPU, all: ${(100 * share(runner)).toFixed(0)}%\n${table}`);
    const second = rows.find((r) => r.label === 'read another 1 MB')!;
    assert.ok(share(second) <= 0.1, `reading time on the CPU, the second 1 MB file: ${(100 * share(second)).toFixed(0)}%\n${table}`);
  });

  it('beside a GPU slower than the CPU, reading moves to the CPU', async () => {
    const { rows, table } = await readFiles(WEAK_GPU, [['1 KB', 1e3], ['10 KB', 1e4], ['100 KB', 1e5], ['300 KB', 3e5]], 0);
    console.log(table);
    const last = rows.find((r) => r.label === 'read 300 KB')!;
    assert.ok(last.bulkMs[1] >= 0.8 * (last.bulkMs[0] + last.bulkMs[1]), `the last file's reading time on the CPU: ${last.bulkMs[1].toFixed(0)} of ${(last.bulkMs[0] + last.bulkMs[1]).toFixed(0)} ms\n${table}`);
  });
});
