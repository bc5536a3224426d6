// One model, several ONNX Runtime sessions: runs a chunk of tokens from a packed state.
// Large chunks (reading) go to the GPU when there is one, else to whichever CPU session has
// been faster for them lately: all threads (a quiet machine) or one (another process holds a
// core); small ones (decoding) to a one-thread CPU session or the GPU (single tokens there on
// the float one-token graph), a completion's next token to the quantized one-token graph even
// beside a GPU (sessionChoice.ts). A GPU run has a fixed cost of
// milliseconds, and on a CPU shared with the editor a one-token run is fastest on one thread
// (a second thread mostly waits for a core). The state lives on the host between runs, so
// any session can continue from it.
import * as fs from 'fs';
import * as os from 'os';
import type { InferenceSession } from 'onnxruntime-node';
import type { ProviderChoice } from './api';
import { CONTRACT_DECODE_OUTPUTS, CONTRACT_INPUTS, CONTRACT_OUTPUTS } from './contract';
import type { Manifest } from './manifest';
import { ModelFolderError } from './manifest';
import { LoadedOrt, loadOrt } from './ortLoader';
import { RunRouter } from './runRouter';
import type { RunPurpose, RunShape, SessionRole } from './sessionChoice';

/**
 * The longest GPU run by default. Longer runs read faster (H200, shipped Flowformer: 261k / 773k
 * / 1.02M tokens/s at 4,096 / 16,384 / 65,536 tokens) but the surprisal head holds two T x vocab
 * float arrays on the GPU (2.1 GB at 16,384 tokens, 8.6 GB at 65,536) and ONNX Runtime keeps
 * what it once allocated: the setting flowstate.gpuRunTokens goes up to the manifest's max_chunk_gpu.
 */
export const DEFAULT_GPU_RUN_TOKENS = 16384;
/** Tokens of the run that prepares the CPU's bulk session at load beside a GPU (longer than the graphs' short form). */
const BULK_WARM_TOKENS = 128;

export interface RunOutput {
  /** Next-token logits after the last token. */
  logits: Float32Array;
  state: Float32Array;
  /** Per token (NaN from the decoding graph, files.graph_cpu_decode, which has no scores). */
  importance: Float32Array;
  /** Bits, per token. */
  surprisal: Float32Array;
  /** The run went to the session not believed faster, to measure it (RunRouter): its time says little about the next run's. */
  trial?: boolean;
}

export interface RunnerOptions {
  provider: ProviderChoice;
  cudaLibDir?: string;
  threads?: number;
  /**
   * Runs of at least this many tokens are bulk runs (default 32): on the GPU or the CPU's
   * threads, whichever has been faster lately; shorter ones on one CPU thread or the GPU, the
   * same way.
   */
  gpuMinTokens?: number;
  /**
   * Which graph runs on the CPU when the model runs on the CPU only: 'auto' (default) the
   * manifest's files.graph_cpu (weight-quantized, model/quantize.py) when it has one, else
   * the float graph; 'float' always the float graph (parity with PyTorch, comparisons). With
   * CUDA, the CPU sessions that read documents run the float graph, so runs routed to either
   * give the same numbers; a completion's decoding steps (purpose 'decode') run on the quantized
   * one-token graph (files.graph_cpu_decode, else graph_cpu_step) unless this is 'float'.
   */
  cpuGraph?: 'auto' | 'float';
  /**
   * Most tokens per graph run on the GPU (default DEFAULT_GPU_RUN_TOKENS; at most the manifest's
   * max_chunk_gpu, at least its max_chunk).
   */
  gpuMaxChunk?: number;
  /**
   * Threads for a second session of the quantized one-token graph, which a completion's decoding
   * steps may run on instead of the one-thread session when it has been faster (FasterOfTwo).
   * Default 1: no such session. Its idle threads spin, so it is only for machines with cores to
   * spare, and there it has not paid: on an H200 host's 16 cores, 4 and 8 threads decoded at 2.67
   * and 2.80 ms per step (mean) against 2.28 on one, while the chooser, comparing medians, sent
   * them 95% of the steps (bench/decodeThreads.js, BENCHMARKS.md session 18).
   */
  decodeThreads?: number;
}

export interface RunnerStats {
  runs: number; tokens: number; ms: number;
  /** Bulk runs on the first and the second choice: the GPU and the CPU (all threads), or on
   * the CPU only all threads and one thread. */
  bulkRuns: [number, number];
  /** Their wall time in ms, by choice. */
  bulkMs: [number, number];
  /** Short runs (decoding) on one CPU thread and on the GPU (counted only when there is one). */
  smallRuns: [number, number];
  /** Single-token runs on a quantized one-token graph (files.graph_cpu_step or, for decoding
   * steps, graph_cpu_decode), on any thread count. */
  stepRuns: number;
  /** Of those, the runs on the decoding graph (files.graph_cpu_decode: no scores). */
  decodeGraphRuns: number;
  /** Of those, the runs on its several-thread session (RunnerOptions.decodeThreads). */
  stepThreadsRuns: number;
  /** Single-token runs on the float one-token graph (files.graph_step). */
  floatStepRuns: number;
  /** Runs of a completion's decoding steps (purpose 'decode'). */
  decodeRuns: number;
}

/** Every role's session: a role the model has no graph or thread count for shares another's. */
type Sessions = Record<Exclude<SessionRole, 'gpu' | 'gpuStep' | 'decodeStepThreads'>, InferenceSession> &
  { gpu?: InferenceSession; gpuStep?: InferenceSession; decodeStepThreads?: InferenceSession };

function sessionOptions(threads: number, providers: string[], spin = false): InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    logSeverityLevel: 3, // ONNX Runtime's own warnings would go to the user's stderr
    // Idle pool threads that spin hold a core the editor needs; on 2 shared cores spinning
    // made bulk runs 1.4x slower whenever another process was busy (bench/graphSpeed.js).
    // (`spin`: a one-token run's ~30 parallel MatMuls of microseconds each cannot wait for
    // sleeping threads to wake)
    ...(threads > 1 && !spin ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
  };
}

function checkFile(file: string, what: string): void {
  if (!fs.existsSync(file)) throw new ModelFolderError(file, `missing: ${what} is not in the folder`);
  const size = fs.statSync(file).size;
  if (size < 64) throw new ModelFolderError(file, `only ${size} bytes: the file is truncated or empty`);
}

function checkGraph(session: InferenceSession, m: Manifest, file: string, outputs: readonly string[] = Object.keys(CONTRACT_OUTPUTS)): void {
  const fail = (p: string): never => { throw new ModelFolderError(file, `${p} (manifest: ${m.manifestFile})`); };
  for (const n of Object.keys(CONTRACT_INPUTS)) if (!session.inputNames.includes(n)) fail(`the graph has no input "${n}"; its inputs are [${session.inputNames.join(', ')}]`);
  for (const n of outputs) if (!session.outputNames.includes(n)) fail(`the graph has no output "${n}"; its outputs are [${session.outputNames.join(', ')}]`);
  const meta = (list: readonly InferenceSession.ValueMetadata[] | undefined, name: string) =>
    list?.find((x) => x.name === name) as { shape?: readonly (number | string)[]; type?: string } | undefined;
  const dim0 = (md: { shape?: readonly (number | string)[] } | undefined) => (md?.shape && typeof md.shape[0] === 'number' ? (md.shape[0] as number) : undefined);
  const st = dim0(meta(session.inputMetadata, 'state'));
  if (st !== undefined && st !== m.stateSize) fail(`the graph's state has ${st} floats but manifest.json says state.size = ${m.stateSize}: the manifest belongs to another model`);
  const so = dim0(meta(session.outputMetadata, 'state_out'));
  if (so !== undefined && so !== m.stateSize) fail(`the graph's state_out has ${so} floats but manifest.json says state.size = ${m.stateSize}`);
  const lg = dim0(meta(session.outputMetadata, 'logits'));
  if (lg !== undefined && lg !== m.vocabSize) fail(`the graph's logits have ${lg} entries but manifest.json says vocab_size = ${m.vocabSize}`);
  const tk = meta(session.inputMetadata, 'tokens');
  if (tk?.type && tk.type !== 'int64') fail(`the graph's tokens input is ${tk.type}, the contract says int64`);
}

export class ModelRunner {
  readonly stats: RunnerStats = { runs: 0, tokens: 0, ms: 0, bulkRuns: [0, 0], bulkMs: [0, 0], smallRuns: [0, 0], stepRuns: 0, decodeGraphRuns: 0, stepThreadsRuns: 0, floatStepRuns: 0, decodeRuns: 0 };
  /** Which of a run's two sessions (sessionChoices) it goes to. */
  private readonly router = new RunRouter((a, b) => !this.sharesSession(a, b));
  /** Sessions that have run once: only their runs are measured (RunRouter.record says why). */
  private readonly warmed = new Set<InferenceSession>();

  private constructor(
    readonly manifest: Manifest,
    private readonly loaded: LoadedOrt,
    private readonly sessions: Sessions,
    /** The quantized one-token graph's session, when one is open (stats.stepRuns). */
    private readonly quantizedStep: InferenceSession | undefined,
    /** The decoding graph's session (files.graph_cpu_decode), when one is open (stats.decodeGraphRuns). */
    private readonly quantizedDecode: InferenceSession | undefined,
    /** The float one-token graph's session, when one is open (stats.floatStepRuns). */
    private readonly floatStep: InferenceSession | undefined,
    /** Runs of at least this many tokens are bulk runs. */
    private readonly bulkMinTokens: number,
    /** The graph the CPU sessions that read run: files.graph_cpu on a CPU-only run, else the float graph. */
    readonly cpuGraphFile: string,
    readonly providerNote: string | undefined,
    private readonly gpuMaxChunk: number,
  ) {}

  private get gpu(): InferenceSession | undefined {
    return this.sessions.gpu;
  }

  /** Most tokens one bulk run takes without being split (0: no limit). */
  get maxBulkRun(): number {
    return this.gpu ? this.gpuMaxChunk : this.manifest.maxChunk;
  }

  /** Whether two roles run on the same session (a role the model has no graph for shares another's). */
  sharesSession(a: SessionRole, b: SessionRole): boolean {
    return this.sessions[a] === this.sessions[b];
  }

  get provider(): 'cuda' | 'cpu' {
    return this.gpu ? 'cuda' : 'cpu';
  }

  static async create(m: Manifest, opts: RunnerOptions): Promise<ModelRunner> {
    checkFile(m.graphFile, 'the model graph (model.onnx)');
    if (m.graphCpuFile) checkFile(m.graphCpuFile, `the CPU graph that manifest.json names in files.graph_cpu (made by model/quantize.py; ${m.manifestFile})`);
    const wantCuda = opts.provider !== 'cpu';
    const loaded = loadOrt(opts.cudaLibDir, wantCuda);
    const threads = opts.threads && opts.threads > 0 ? opts.threads : Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    // a CUDA session can be created and still fail on its first run (no device, wrong CUDA):
    // it is run once here, and released when that fails
    const openCuda = async (file: string) => {
      const s = await loaded.ort.InferenceSession.create(file, sessionOptions(threads, ['cuda']));
      try {
        await s.run(feeds(loaded, new Int32Array([m.special.fim_prefix]), new Float32Array(m.stateSize)));
      } catch (e) {
        await s.release().catch(() => undefined);
        throw e;
      }
      return s;
    };
    let gpu: InferenceSession | undefined;
    let note: string | undefined;
    if (wantCuda) {
      if (!loaded.cudaLibsPresent) {
        note = `CUDA is not used: ${loaded.cudaMissingReason}.`;
      } else {
        try {
          gpu = await openCuda(m.graphFile);
        } catch (e) {
          note = `CUDA is not used: the CUDA provider failed to load or run (${firstLine(e)}). It needs an NVIDIA GPU and driver, CUDA 13 and cuDNN 9 on the library path (LD_LIBRARY_PATH, or the CUDA library folder setting).`;
        }
      }
    }
    // CPU only: the quantized CPU graph when there is one (its long form for bulk runs when it
    // has one); beside a GPU: the float graph
    const quantized = !gpu && opts.cpuGraph !== 'float' && !!m.graphCpuFile;
    const cpuFile = quantized ? m.graphCpuFile! : m.graphFile;
    const longFile = quantized && m.graphCpuLongFile ? m.graphCpuLongFile : undefined;
    if (longFile) checkFile(longFile, `the long-chunk CPU graph that manifest.json names in files.graph_cpu_long (${m.manifestFile})`);
    const bulkFile = longFile ?? cpuFile;
    const made: InferenceSession[] = [];
    const open = async (file: string, n: number, spin = false, outputs?: readonly string[]) => {
      try {
        const s = await loaded.ort.InferenceSession.create(file, sessionOptions(n, ['cpu'], spin));
        made.push(s);
        checkGraph(s, m, file, outputs);
        return s;
      } catch (e) {
        for (const s of made) await s.release();
        if (gpu) await gpu.release();
        if (e instanceof ModelFolderError) throw e;
        throw new ModelFolderError(file, `ONNX Runtime cannot load it (${firstLine(e)}); the file may be truncated, not an ONNX model, or miss its weight file`);
      }
    };
    const cpuThreads = await open(bulkFile, threads);
    const cpuOneThread = threads > 1 ? await open(bulkFile, 1) : cpuThreads;
    // the quantized one-token graph: every single token on a CPU-only run, a completion's
    // decoding steps beside a GPU (their state is never kept, so the float graph's numbers are
    // not needed there)
    const stepFile = opts.cpuGraph !== 'float' && m.graphCpuFile && m.graphCpuStepFile ? m.graphCpuStepFile : undefined;
    if (stepFile) checkFile(stepFile, `the one-token CPU graph that manifest.json names in files.graph_cpu_step (${m.manifestFile})`);
    // the short form beside a long one: for runs of 2 to min_tokens - 1 tokens, and for single
    // tokens when there is no step graph; with neither (the DeltaNet: long form from 2 tokens,
    // a step graph) no run goes there, and opening it would hold its weights once more
    const shortRunsExist = !!longFile && (m.graphCpuLongMinTokens! > 2 || !stepFile);
    const cpuShort = shortRunsExist ? await open(cpuFile, 1) : cpuOneThread;
    const quantizedStep = stepFile ? await open(stepFile, 1) : undefined;
    // a completion's steps: the same graph without scores where the folder has it (the head
    // projects one row, no log-softmax: 1.09x per token on one thread)
    const decodeFile = stepFile && m.graphCpuDecodeFile ? m.graphCpuDecodeFile : undefined;
    if (decodeFile) checkFile(decodeFile, `the decoding graph that manifest.json names in files.graph_cpu_decode (${m.manifestFile})`);
    const quantizedDecode = decodeFile ? await open(decodeFile, 1, false, CONTRACT_DECODE_OUTPUTS) : undefined;
    const decodeThreads = Math.min(threads, opts.decodeThreads ?? 1);
    const quantizedStepThreads = stepFile && decodeThreads > 1 ? await open(decodeFile ?? stepFile, decodeThreads, true, decodeFile ? CONTRACT_DECODE_OUTPUTS : undefined) : undefined;
    // the one-token sessions' first runs allocate (beside the H200: 4.7, 4.1, 9.0 ms, then 2.2):
    // at load, not in the user's first completion
    const warmAtLoad = [quantizedStep, quantizedDecode, quantizedStepThreads].filter((s): s is InferenceSession => !!s);
    for (const s of warmAtLoad) {
      for (let i = 0; i < 3; i++) await s.run(feeds(loaded, new Int32Array([m.special.fim_prefix]), new Float32Array(m.stateSize)));
    }
    // a document's single tokens: the int8 step graph on a CPU-only run, else the float one
    // (the float graph's numbers, 1.5x its graph form at T = 1)
    const floatStepFile = !quantized && m.graphStepFile ? m.graphStepFile : undefined;
    if (floatStepFile) checkFile(floatStepFile, `the one-token float graph that manifest.json names in files.graph_step (${m.manifestFile})`);
    const floatStep = floatStepFile ? await open(floatStepFile, 1) : undefined;
    const cpuStep = quantized && quantizedStep ? quantizedStep : floatStep ?? cpuShort;
    // single tokens on the GPU: the float one-token graph (opened and checked on the CPU just
    // above) when it loads and runs there, else model.onnx
    const gpuStep = gpu && floatStepFile ? await openCuda(floatStepFile).catch(() => undefined) : undefined;
    const sessions: Sessions = { gpu, gpuStep: gpuStep ?? gpu, cpuThreads, cpuOneThread, cpuShort, cpuStep, decodeStep: quantizedDecode ?? quantizedStep ?? cpuStep, decodeStepThreads: quantizedStepThreads };
    const bulkMinTokens = !gpu && longFile ? m.graphCpuLongMinTokens! : opts.gpuMinTokens ?? 32;
    const gpuMaxChunk = m.maxChunk > 0 ? Math.max(m.maxChunk, Math.min(m.maxChunkGpu, opts.gpuMaxChunk || DEFAULT_GPU_RUN_TOKENS)) : 0;
    const runner = new ModelRunner(m, loaded, sessions, quantizedStep, quantizedDecode, floatStep, bulkMinTokens, cpuFile, note, gpuMaxChunk);
    for (const s of warmAtLoad) runner.warmed.add(s);
    // beside a GPU the CPU's threads are the bulk runs' second choice, tried rarely: their first
    // run (not measured: warmed) would be a whole trial wasted, 100-200 ms beside the H200
    if (gpu) {
      await cpuThreads.run(feeds(loaded, new Int32Array(BULK_WARM_TOKENS).fill(m.special.fim_prefix), new Float32Array(m.stateSize)));
      runner.warmed.add(cpuThreads);
    }
    return runner;
  }

  /**
   * Reads `tokens` from `state`, on the faster of the run's two sessions by recent measurements
   * (ONNX Runtime's per-run cost on the GPU can outweigh its speed; another process may hold a
   * core); split where that session has a chunk limit. `purpose` 'decode': a completion's
   * next token, whose state is not kept (sessionChoice.ts).
   */
  async run(tokens: Int32Array, state: Float32Array, purpose: RunPurpose = 'read'): Promise<RunOutput> {
    if (tokens.length === 0) throw new Error('run: no tokens');
    const shape: RunShape = { tokens: tokens.length, purpose, bulkMinTokens: this.bulkMinTokens, hasGpu: !!this.gpu, hasDecodeThreads: !!this.sessions.decodeStepThreads };
    const small = tokens.length < this.bulkMinTokens;
    const route = this.router.route(shape);
    const { choice, chooser } = route;
    const session = this.sessions[route.role]!;
    const max = session === this.gpu ? this.gpuMaxChunk : this.manifest.maxChunk;
    const t0 = performance.now();
    let out: RunOutput;
    if (max > 0 && tokens.length > max) {
      const importance = new Float32Array(tokens.length);
      const surprisal = new Float32Array(tokens.length);
      let piece: RunOutput | undefined;
      for (let i = 0; i < tokens.length; i += max) {
        piece = await this.runOn(session, tokens.subarray(i, Math.min(tokens.length, i + max)), piece ? piece.state : state);
        importance.set(piece.importance, i);
        surprisal.set(piece.surprisal, i);
      }
      out = { logits: piece!.logits, state: piece!.state, importance, surprisal };
    } else {
      out = await this.runOn(session, tokens, state);
    }
    const ms = performance.now() - t0;
    this.router.record(route, ms, tokens.length, this.warmed.has(session));
    if (chooser) {
      (small ? this.stats.smallRuns : this.stats.bulkRuns)[choice]++;
      if (!small) this.stats.bulkMs[choice] += ms;
    }
    this.warmed.add(session);
    this.stats.ms += ms;
    this.stats.runs++;
    if (session === this.quantizedStep) this.stats.stepRuns++;
    if (session === this.quantizedDecode) { this.stats.stepRuns++; this.stats.decodeGraphRuns++; }
    if (session === this.sessions.decodeStepThreads) { this.stats.stepRuns++; this.stats.stepThreadsRuns++; }
    if (session === this.floatStep) this.stats.floatStepRuns++;
    if (purpose === 'decode') this.stats.decodeRuns++;
    this.stats.tokens += tokens.length;
    if (route.trial) out.trial = true;
    return out;
  }

  private async runOn(session: InferenceSession, tokens: Int32Array, state: Float32Array): Promise<RunOutput> {
    const r = await session.run(feeds(this.loaded, tokens, state));
    // the decoding graph (files.graph_cpu_decode) has no scores: NaN, as nobody reads them
    const none = () => new Float32Array(tokens.length).fill(NaN);
    return {
      logits: r.logits.data as Float32Array,
      state: r.state_out.data as Float32Array,
      importance: r.importance ? (r.importance.data as Float32Array) : none(),
      surprisal: r.surprisal ? (r.surprisal.data as Float32Array) : none(),
    };
  }

  async dispose(): Promise<void> {
    const open = new Set<InferenceSession>(Object.values(this.sessions).filter((x): x is InferenceSession => !!x));
    if (this.quantizedStep) open.add(this.quantizedStep);
    for (const s of open) await s.release();
  }
}

function feeds(loaded: LoadedOrt, tokens: Int32Array, state: Float32Array) {
  const ids = new BigInt64Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) ids[i] = BigInt(tokens[i]);
  return {
    tokens: new loaded.ort.Tensor('int64', ids, [tokens.length]),
    state: new loaded.ort.Tensor('float32', state, [state.length]),
  };
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0].slice(0, 400);
}
