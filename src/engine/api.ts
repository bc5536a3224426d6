// The engine's public API: what the extension, the CLI, the tests and the benchmarks call.
// The engine runs in a child process (see client.ts / host.ts); every call below is one
// request/response message, and every call that can take time accepts a cancellation id.
// No `vscode` import anywhere under src/engine.

export type ProviderChoice = 'auto' | 'cuda' | 'cpu';

export interface EngineOptions {
  /** Folder holding manifest.json, model.onnx and tokenizer.json. */
  modelDir: string;
  provider: ProviderChoice;
  /** Directory with libonnxruntime_providers_cuda.so (+ _shared.so), when CUDA is wanted. */
  cudaLibDir?: string;
  /** Budget for checkpoints across all documents, in bytes (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Tokens between checkpoints of the whole recurrent state (default chosen by the engine). */
  checkpointEvery?: number;
  /** CPU threads for ONNX Runtime (default: all cores). */
  threads?: number;
  /** Threads of a second session a completion's decoding steps may run on (modelRunner.ts
   * RunnerOptions.decodeThreads; default 1: none). */
  decodeThreads?: number;
  /**
   * Most tokens per model run on the GPU (default 16,384; at most the manifest's max_chunk_gpu):
   * longer runs read faster and hold more GPU memory (modelRunner.ts DEFAULT_GPU_RUN_TOKENS).
   */
  gpuRunTokens?: number;
  /** Read open documents in the background (default true); read() works either way. */
  backgroundReading?: boolean;
  /** Most tokens per model run while reading in the background (default: as urgentRunTokens). */
  runTokens?: number;
  /**
   * The same within 2 s of an edit or a completion request (default: runTokens), for every
   * reading run, also one a caller waits for (a summary after an edit): a keystroke waits for at
   * most one such run, so an editor keeps these short.
   */
  activeRunTokens?: number;
  /**
   * The same when a request waits for the reading (default: 1024 tokens on the CPU, at most
   * max_chunk x 4; with CUDA the longest run the GPU takes whole, gpuRunTokens). All three are upper bounds: while runs are slow (a loaded
   * machine) they get shorter, about 150 ms each (RunPacer), since a run holds the engine's
   * event loop until it ends.
   */
  urgentRunTokens?: number;
}

export interface EngineInfo {
  modelName: string;
  architecture: string;
  parameters: number;
  stateBytes: number;
  /** The provider actually in use. */
  provider: 'cuda' | 'cpu';
  /** Set when CUDA was wanted but is not used: the exact reason and what the user can do. */
  providerNote?: string;
  importanceKind: 'source_competition' | 'write_strength' | 'none';
}

/** A document edit as VS Code reports it: UTF-16 offsets into the text before the edit. */
export interface TextEdit {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

export interface ReadProgress {
  uri: string;
  version: number;
  /** UTF-16 offset up to which the whole state, importance and surprisal are known. */
  readOffset: number;
  length: number;
  tokensRead: number;
  tokensTotal: number;
}

export interface CompletionRequest {
  uri: string;
  /** Document version the offset refers to. */
  version: number;
  /** UTF-16 offset of the cursor. */
  offset: number;
  maxTokens: number;
  temperature: number; // 0 = greedy
  topP: number;
  /**
   * Milliseconds after which decoding stops at the next word end once its text is worth showing
   * (not blank, not only what follows the cursor); it stops regardless at
   * timeBudgetMs + max(2 timeBudgetMs, 200).
   */
  timeBudgetMs: number;
  /** Stop when the completion contains one of these (not included). */
  stopStrings?: string[];
  /** 'line': stop at the end of the line; 'block': stop at a line indented less than the cursor's. */
  mode: 'line' | 'block';
  /** Lines after the cursor given to the model as the fill-in-the-middle suffix (0 = none). */
  suffixLines: number;
  seed?: number;
  /** Stop where the text starts to loop (the same few tokens over and over); default true. */
  stopOnRepetition?: boolean;
  /**
   * Text taken as typed before completing, though not in the document: the item an editor's
   * suggestion list has selected. It replaces the `replaces` characters before the offset (the
   * part of the word typed so far, on the cursor's line); the answer is what follows it.
   */
  assume?: { text: string; replaces: number };
}

export interface CompletionResult {
  text: string;
  tokens: number;
  /** Milliseconds: request to state-at-cursor, to first token, total. */
  msToState: number;
  msToFirstToken: number;
  msTotal: number;
  stoppedBy: 'max_tokens' | 'time' | 'stop_string' | 'indent' | 'end_of_text' | 'line_end' | 'repetition' | 'cancelled';
}

/** Per-token scores for a range of the document (only what has been read). */
export interface TokenScores {
  /** UTF-16 start and end offset of each token. */
  starts: number[];
  ends: number[];
  importance: number[];
  /** Bits. */
  surprisal: number[];
}

export interface TopPredictions {
  offset: number;
  tokenText: string;
  importance: number;
  surprisal: number;
  /** Percentiles of this token's scores among all read tokens of the document (0..100). */
  importancePercentile: number;
  surprisalPercentile: number;
  top: { text: string; probability: number }[];
}

export interface SummaryLine {
  line: number; // 0-based
  /** Where the text starts in the line (UTF-16), for a piece of a long line (summary.ts PIECED_LINE_CHARS); else absent. */
  column?: number;
  text: string;
  score: number;
}

export interface FileSummary {
  uri: string;
  version: number;
  lines: SummaryLine[];
  /** Importance and surprisal along the file: one value per bucket of lines. */
  profile: { startLine: number; endLine: number; importance: number; surprisal: number }[];
  bitsPerByte: number;
  tokens: number;
  msReading: number;
}

export interface EngineStats {
  documents: number;
  checkpointBytes: number;
  memoryBudgetBytes: number;
  evictions: number;
  /** Bulk runs (reading) on the runner's first and second choice (beside a GPU: the GPU and the
   * CPU's threads; on the CPU only: all threads and one), and their wall time in ms: what trying
   * the second choice costs a read. */
  bulkRuns: [number, number];
  bulkMs: [number, number];
}

/** The engine, as seen by callers (implemented in-process by Engine, across processes by EngineClient). */
export interface EngineApi {
  info(): Promise<EngineInfo>;
  openDocument(uri: string, version: number, text: string, languageId?: string): Promise<void>;
  applyEdits(uri: string, version: number, edits: TextEdit[]): Promise<void>;
  closeDocument(uri: string): Promise<void>;
  /** Visible documents are read first; priority order, most wanted first. */
  setPriority(uris: string[]): Promise<void>;
  /** Reads the document up to `offset` (default: the end) and resolves when done. */
  read(uri: string, offset?: number, cancelId?: string): Promise<ReadProgress>;
  complete(req: CompletionRequest, cancelId?: string): Promise<CompletionResult>;
  /**
   * Makes the state at the start of offset's line (and of the line before) ready, in the
   * background, so that a completion typed there next replays only the line itself instead of
   * up to a checkpoint spacing (after a jump in a large file: seconds on a loaded CPU). Resolves
   * true when done, false when the document changed first or it was not needed.
   */
  prepare(uri: string, offset: number): Promise<boolean>;
  scores(uri: string, startOffset: number, endOffset: number): Promise<TokenScores>;
  predictionsAt(uri: string, offset: number, topK: number): Promise<TopPredictions>;
  summarize(uri: string, maxLines: number, cancelId?: string): Promise<FileSummary>;
  stats(): Promise<EngineStats>;
  cancel(cancelId: string): Promise<void>;
  /**
   * Asks the request with this id for an early answer: a completion that has text stops at the
   * next word boundary and returns it (stoppedBy 'time', as if its budget ran out). The caller
   * uses it when the editor asks for ghost text while a request started on the keystroke is
   * still decoding, so the first answer does not wait for the whole time budget.
   */
  hurry(cancelId: string): Promise<void>;
  dispose(): Promise<void>;
}

/** Events the engine pushes without a request. */
export type EngineEvent =
  | { kind: 'progress'; progress: ReadProgress }
  | { kind: 'log'; level: 'trace' | 'debug' | 'info' | 'warn' | 'error'; message: string }
  /** The engine process died and was started again; its documents were opened again. */
  | { kind: 'restarted'; reason: string; attempt: number; documents: number };
