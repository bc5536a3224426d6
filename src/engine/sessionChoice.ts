// Which two ONNX Runtime sessions a run may go to (the runner then picks the faster of them by
// recent measurements). A pure function, so the routing beside a GPU is tested without one.

/**
 * What a run is for. 'read': tokens of a document, whose state may become a checkpoint and whose
 * scores are stored (beside a GPU every session runs the float graph, so where a run goes never
 * changes the numbers). 'decode': a completion's next token, whose state is thrown away after
 * the completion: it may run on the quantized one-token graph even beside a GPU (the GPU's
 * one-token run is launch-bound: 4-6 ms on an H200 against 1.95 ms for the int8 step graph on
 * one of its CPU threads, bench/results/gpu-session15.txt).
 */
export type RunPurpose = 'read' | 'decode';

export type SessionRole =
  /** The float graph on the CUDA provider. */
  | 'gpu'
  /** One token on the CUDA provider: the float graph's one-token form (files.graph_step; fixed
   * shapes, no If), else the float graph itself. */
  | 'gpuStep'
  /** The CPU's bulk graph on all threads, and on one thread. */
  | 'cpuThreads' | 'cpuOneThread'
  /** The CPU's graph for short runs, one thread. */
  | 'cpuShort'
  /** One token of a document: the CPU graph's one-token form (beside a GPU the float graph's:
   * files.graph_step, else model.onnx itself). */
  | 'cpuStep'
  /** One token of a completion: the quantized one-token graph wherever the folder has one (its
   * form without scores, files.graph_cpu_decode, where it has that). */
  | 'decodeStep'
  /** The same on several CPU threads (when opened: RunnerOptions.decodeThreads). */
  | 'decodeStepThreads';

export interface RunShape {
  tokens: number;
  purpose: RunPurpose;
  /** Runs of at least this many tokens are bulk runs. */
  bulkMinTokens: number;
  hasGpu: boolean;
  /** The one-token graph is also open on several threads (decodeStepThreads). */
  hasDecodeThreads?: boolean;
}

/** The usual session first, then the one tried now and then (the same twice: no choice). */
export function sessionChoices(r: RunShape): [SessionRole, SessionRole] {
  if (r.tokens >= r.bulkMinTokens) return r.hasGpu ? ['gpu', 'cpuThreads'] : ['cpuThreads', 'cpuOneThread'];
  const cpu: SessionRole = r.tokens !== 1 ? 'cpuShort' : r.purpose === 'decode' ? 'decodeStep' : 'cpuStep';
  // a decoding step never goes to the GPU: its one-token run took 3.5-5.2 ms on the H200 against
  // 1.4-2.6 on one CPU thread, and with the GPU as a second choice one slow first CPU step (a GC
  // pause after a long read) sent 561 of 563 steps there (BENCHMARKS.md, session 18); the
  // second choice is the same graph on more threads when that is open
  if (cpu === 'decodeStep') return [cpu, r.hasDecodeThreads ? 'decodeStepThreads' : cpu];
  return [cpu, r.hasGpu ? (r.tokens === 1 ? 'gpuStep' : 'gpu') : cpu];
}

/**
 * Runs that share measurements of their two sessions' speed: the same first and second choice
 * (the kind) and the same power-of-two length (the cost per token depends on it too).
 */
export function runClass(r: RunShape): { kind: 'bulk' | 'short' | 'decode'; size: number } {
  const kind = r.tokens >= r.bulkMinTokens ? 'bulk' : r.purpose === 'decode' && r.tokens === 1 ? 'decode' : 'short';
  return { kind, size: Math.floor(Math.log2(r.tokens)) };
}
