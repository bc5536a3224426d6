// The engine in-process: documents, background reading, completion, scores, summaries. The
// child process (host.ts) wraps one of these; tests, the CLI and benchmarks use it directly.
import type {
  CompletionRequest, CompletionResult, EngineApi, EngineEvent, EngineInfo, EngineOptions, EngineStats,
  FileSummary, ReadProgress, TextEdit, TokenScores, TopPredictions,
} from './api';
import { CancellationRegistry, CancelledError, eitherCancelled, newCancelToken } from './cancellation';
import { CheckpointBudget } from './checkpoints';
import { Completer } from './completer';
import { Document } from './document';
import { LoadedModel, loadModel } from './modelFolder';
import { predictionsAt, tokenScores } from './predictions';
import { PriorityGate } from './priorityGate';
import { BackgroundReader } from './reader';
import { Replayer, StaleError } from './replay';
import { summarize } from './summary';

export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

/**
 * Tokens between checkpoints: at most 200 bytes of checkpoint per token, so the checkpoints of a
 * 1 MB file (~300k tokens) stay under ~64 MB; no sparser than needed (in multiples of 256),
 * because a jump replays up to this many tokens.
 */
export function defaultCheckpointEvery(stateBytes: number): number {
  return Math.min(8192, Math.max(256, Math.ceil(stateBytes / 200 / 256) * 256));
}

export class Engine implements EngineApi {
  private readonly docs = new Map<string, Document>();
  private readonly cancels = new CancellationRegistry();
  /** Per document, the prepare (EngineApi.prepare) under way. */
  private readonly preparing = new Map<Document, { cancel(): void }>();
  /** Per document, the completions under way: an edit stops them (their answer is for text that is gone). */
  private readonly completing = new Map<Document, Set<{ cancel(): void }>>();
  private readonly budget: CheckpointBudget;
  private readonly replayer: Replayer;
  private readonly completer: Completer;
  private readonly reader: BackgroundReader;
  private readonly lastProgress = new Map<string, number>();
  private readonly specialIds: Set<number>;
  readonly checkpointEvery: number;

  private constructor(readonly model: LoadedModel, readonly opts: EngineOptions, private readonly onEvent: (e: EngineEvent) => void) {
    const m = model.manifest;
    this.budget = new CheckpointBudget(opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
    this.checkpointEvery = opts.checkpointEvery ?? defaultCheckpointEvery(m.stateSize * 4);
    // Long runs read fastest: on the CPU a Flowformer graph's blocked form reads 1.4-1.8x the
    // tokens/s at 1024 as at 256; a GPU run has a fixed cost of milliseconds, so there a run is
    // as long as the GPU takes whole (the runner splits longer ones at the session's limit).
    const r = model.runner;
    const defaultRun = m.maxChunk <= 0 ? 256 : r.provider === 'cuda' ? r.maxBulkRun : Math.min(1024, m.maxChunk * 4);
    const runTokens = Math.max(1, opts.runTokens ?? defaultRun);
    const urgentRunTokens = Math.max(1, opts.urgentRunTokens ?? defaultRun);
    this.replayer = new Replayer(model.runner, new PriorityGate(), { checkpointEvery: this.checkpointEvery, runTokens, urgentRunTokens });
    this.completer = new Completer(m, model.tokenizer, this.replayer);
    this.specialIds = new Set(Object.values(m.special));
    this.reader = new BackgroundReader(
      () => this.docs.values(), this.replayer,
      { background: opts.backgroundReading ?? true, editDebounceMs: 150, refreshDebounceMs: 1000, activeRunTokens: opts.activeRunTokens, activeMs: 2000 },
      (doc, done) => this.progress(doc, done),
      (doc, e) => this.log('error', `reading ${doc.uri} failed: ${e.message}`),
    );
    this.reader.start();
  }

  static async create(opts: EngineOptions, onEvent: (e: EngineEvent) => void = () => undefined): Promise<Engine> {
    const model = await loadModel(opts.modelDir, { provider: opts.provider, cudaLibDir: opts.cudaLibDir, threads: opts.threads, decodeThreads: opts.decodeThreads, gpuMaxChunk: opts.gpuRunTokens });
    const e = new Engine(model, opts, onEvent);
    const r = model.runner;
    e.log('info', `model ${model.manifest.name} (${model.manifest.architecture}) on ${r.provider}${r.providerNote ? ` (${r.providerNote})` : ''}; checkpoint every ${e.checkpointEvery} tokens`);
    return e;
  }

  async info(): Promise<EngineInfo> {
    const m = this.model.manifest;
    return {
      modelName: m.name, architecture: m.architecture, parameters: m.parameters, stateBytes: m.stateSize * 4,
      provider: this.model.runner.provider, providerNote: this.model.runner.providerNote, importanceKind: m.importanceKind,
    };
  }

  async openDocument(uri: string, version: number, text: string, languageId?: string): Promise<void> {
    const old = this.docs.get(uri);
    if (old) { this.stopCompletions(old); old.dispose(); }
    const doc = new Document(uri, version, text, languageId, this.model.tokenizer, this.budget, this.model.manifest.special.fim_prefix);
    this.docs.set(uri, doc);
    this.reader.wake();
  }

  async applyEdits(uri: string, version: number, edits: TextEdit[]): Promise<void> {
    const doc = this.doc(uri);
    doc.applyEdits(edits, version);
    this.stopCompletions(doc);
    doc.touch();
    this.reader.noteActivity();
    this.reader.wake();
  }

  async closeDocument(uri: string): Promise<void> {
    const doc = this.docs.get(uri);
    if (!doc) return;
    this.docs.delete(uri);
    this.lastProgress.delete(uri);
    this.reader.forget(doc);
    this.stopCompletions(doc);
    doc.dispose();
  }

  async setPriority(uris: string[]): Promise<void> {
    this.reader.priority = uris.slice();
    // visible documents are the most recently used: their checkpoints are evicted last
    for (const uri of [...uris].reverse()) this.docs.get(uri)?.touch();
    this.reader.wake();
  }

  async read(uri: string, offset?: number, cancelId?: string): Promise<ReadProgress> {
    const doc = this.doc(uri);
    const cancel = this.cancels.acquire(cancelId);
    try {
      const line = () => (offset === undefined ? doc.lineCount : doc.buf.position(Math.min(offset, doc.buf.length)).line + 1);
      await doc.tokenizeUpTo(line(), cancel);
      const g = doc.lineStartToken(line());
      await this.reader.waitFor(doc, g, cancel);
      return this.progressOf(doc);
    } finally {
      this.cancels.release(cancelId);
    }
  }

  async complete(req: CompletionRequest, cancelId?: string): Promise<CompletionResult> {
    const doc = this.doc(req.uri);
    if (req.version !== doc.version) throw new Error(`stale request: ${req.uri} is at version ${doc.version}, the request is for version ${req.version}`);
    doc.touch();
    this.reader.noteActivity();
    // a completion replays what it needs at interactive priority: a prepare of the same
    // document would only do the same work beside it
    this.preparing.get(doc)?.cancel();
    const edited = newCancelToken();
    const running = this.completing.get(doc) ?? new Set();
    this.completing.set(doc, running.add(edited));
    const cancel = eitherCancelled(this.cancels.acquire(cancelId), edited);
    const t0 = performance.now();
    try {
      await doc.tokenizeUpTo(doc.buf.position(Math.min(req.offset, doc.buf.length)).line + 1, cancel);
      return await this.completer.complete(doc, req, cancel);
    } catch (e) {
      if (e instanceof CancelledError || e instanceof StaleError) {
        const ms = performance.now() - t0;
        return { text: '', tokens: 0, msToState: ms, msToFirstToken: ms, msTotal: ms, stoppedBy: 'cancelled' };
      }
      throw e;
    } finally {
      this.cancels.release(cancelId);
      running.delete(edited);
      if (!running.size && this.completing.get(doc) === running) this.completing.delete(doc);
    }
  }

  async prepare(uri: string, offset: number): Promise<boolean> {
    const doc = this.doc(uri);
    // one at a time per document: the line the cursor moved to last supersedes the one before
    this.preparing.get(doc)?.cancel();
    const token = newCancelToken();
    this.preparing.set(doc, token);
    try {
      // the cursor just moved: the user is about to type, so runs stay as short as while typing
      const { line, col } = doc.buf.position(Math.min(offset, doc.buf.length));
      await doc.tokenizeUpTo(line + 1, token);
      return await this.completer.prepareLine(doc, line, col, token, this.opts.activeRunTokens);
    } catch (e) {
      if (e instanceof CancelledError || e instanceof StaleError) return false;
      throw e;
    } finally {
      if (this.preparing.get(doc) === token) this.preparing.delete(doc);
    }
  }

  async scores(uri: string, startOffset: number, endOffset: number): Promise<TokenScores> {
    return tokenScores(this.doc(uri), startOffset, endOffset);
  }

  async predictionsAt(uri: string, offset: number, topK: number): Promise<TopPredictions> {
    const doc = this.doc(uri);
    doc.touch();
    return predictionsAt(doc, offset, topK, this.model.tokenizer, this.replayer, this.specialIds, this.cancels.acquire(undefined));
  }

  async summarize(uri: string, maxLines: number, cancelId?: string): Promise<FileSummary> {
    const doc = this.doc(uri);
    const t0 = performance.now();
    await this.read(uri, undefined, cancelId);
    return summarize(doc, maxLines, performance.now() - t0);
  }

  async stats(): Promise<EngineStats> {
    const r = this.model.runner.stats;
    return {
      documents: this.docs.size, checkpointBytes: this.budget.bytes, memoryBudgetBytes: this.budget.budgetBytes, evictions: this.budget.evictions,
      bulkRuns: [...r.bulkRuns], bulkMs: [...r.bulkMs],
    };
  }

  async cancel(cancelId: string): Promise<void> {
    this.cancels.cancel(cancelId);
  }

  async hurry(cancelId: string): Promise<void> {
    this.cancels.hurry(cancelId);
  }

  async dispose(): Promise<void> {
    await this.reader.dispose();
    for (const d of this.docs.values()) d.dispose();
    this.docs.clear();
    await this.model.runner.dispose();
  }

  // ---- for the CLI, tests and benchmarks (not part of EngineApi)

  /** The in-process document (tests compare its state and scores). */
  document(uri: string): Document {
    return this.doc(uri);
  }

  get runner() {
    return this.model.runner;
  }

  get tokenizer() {
    return this.model.tokenizer;
  }

  /** The state after the whole document and the logits after its last token. */
  async finalState(uri: string): Promise<{ state: Float32Array; logits: Float32Array }> {
    const doc = this.doc(uri);
    const st = await this.replayer.stateAt(doc, doc.totalTokens, true, { priority: 0 });
    return { state: st.state, logits: st.logits! };
  }

  private stopCompletions(doc: Document): void {
    for (const c of this.completing.get(doc) ?? []) c.cancel();
  }

  private doc(uri: string): Document {
    const d = this.docs.get(uri);
    if (!d) throw new Error(`unknown document ${uri} (open it first)`);
    return d;
  }

  private progressOf(doc: Document): ReadProgress {
    const total = doc.fullyTokenized ? doc.totalTokens : Math.round(doc.readTokens + (doc.buf.length - this.readOffset(doc)) / 3.5);
    return { uri: doc.uri, version: doc.version, readOffset: this.readOffset(doc), length: doc.buf.length, tokensRead: doc.readTokens, tokensTotal: Math.max(total, doc.readTokens) };
  }

  private readOffset(doc: Document): number {
    const g = doc.readTokens;
    if (g <= 1) return 0;
    if (doc.fullyTokenized && g >= doc.totalTokens) return doc.buf.length;
    const { line, k } = doc.tokenPosition(g);
    const lt = doc.lineTokens(line);
    return doc.buf.lineStart(line) + (k < lt.ids.length ? lt.starts[k] : doc.buf.lines[line].length);
  }

  private progress(doc: Document, done: boolean): void {
    const now = Date.now();
    if (!done && now - (this.lastProgress.get(doc.uri) ?? 0) < 250) return;
    if (done && this.lastProgress.get(doc.uri) === -doc.epoch - 1) return; // reported already
    this.lastProgress.set(doc.uri, done ? -doc.epoch - 1 : now);
    this.onEvent({ kind: 'progress', progress: this.progressOf(doc) });
  }

  private log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error', message: string): void {
    this.onEvent({ kind: 'log', level, message });
  }
}

