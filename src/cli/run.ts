// The CLI's jobs, through the same engine API (and the same child process) the extension uses:
// read a whole file, complete, summarise, score tokens; or bits per byte of files.
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { CompletionResult, EngineApi, EngineEvent, EngineInfo } from '../engine/api';
import { EngineClient } from '../engine/client';
import { defaultModelDir } from '../engine/defaultModel';
import type { CommonOptions, HeatMode, MainOptions, ScoreOptions } from './args';
import { UsageError } from './args';
import { HeatLine, heatLines, LEVEL_QUANTILES, quantiles } from './heatmap';

/** The repo (or installed package) root: out/src/cli/ when compiled, src/cli/ under ts-node. */
export const ROOT = [path.resolve(__dirname, '..', '..', '..'), path.resolve(__dirname, '..', '..')]
  .find((d) => fs.existsSync(path.join(d, 'package.json'))) ?? process.cwd();
export const SAMPLE_FILE = path.join(ROOT, 'samples', 'mypy_semanal.py');

export interface ModelReport { name: string; architecture: string; parameters: number; dir: string; importanceKind: EngineInfo['importanceKind'] }

export interface MainReport {
  file: string;
  bytes: number;
  lines: number;
  model: ModelReport;
  provider: 'cuda' | 'cpu';
  providerNote?: string;
  reading: { tokens: number; ms: number; tokensPerSecond: number };
  /** Bytes of one whole recurrent state; of all checkpoints kept for this file. */
  state: { bytes: number; checkpointBytes: number };
  bitsPerByte: number;
  completion: CompletionResult & {
    line: number; column: number; offset: number; mode: 'line' | 'block'; atEnd: boolean;
    /** The cursor's line up to the cursor (context for the text output). */
    linePrefix: string;
  };
  /** Key lines; column (1-based) for a piece of a long line. */
  summary: { line: number; column?: number; text: string; score: number }[];
  heatmap: { mode: HeatMode; from: number; to: number; quantiles: number[]; thresholds: number[]; lines: HeatLine[] };
}

export interface ScoreReport {
  model: ModelReport;
  provider: 'cuda' | 'cpu';
  providerNote?: string;
  files: { file: string; bytes: number; tokens: number; bits: number; bitsPerByte: number; ms: number }[];
  total: { bytes: number; tokens: number; bits: number; bitsPerByte: number };
}

export type Log = (message: string) => void;

export function resolveModel(opts: CommonOptions): string {
  if (opts.model) return path.resolve(opts.model);
  const dir = defaultModelDir(path.join(ROOT, 'models'));
  if (!dir) throw new UsageError(`no model folder under ${path.join(ROOT, 'models')}; name one with --model DIR`);
  return dir;
}

/** The file's text as an editor holds it: UTF-8, without a byte-order mark. */
export function readText(file: string): string {
  let buf: Buffer;
  try { buf = fs.readFileSync(file); } catch (e) { throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
  if (buf.subarray(0, 8192).includes(0)) throw new UsageError(`${file} looks binary (it has NUL bytes)`);
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

async function startEngine(opts: CommonOptions, log: Log, onProgress?: (done: number, total: number) => void): Promise<{ engine: EngineApi; info: EngineInfo; model: ModelReport }> {
  const dir = resolveModel(opts);
  const onEvent = (e: EngineEvent) => {
    if (e.kind === 'log' && (e.level === 'warn' || e.level === 'error')) log(`engine ${e.level}: ${e.message}`);
    else if (e.kind === 'progress') onProgress?.(e.progress.tokensRead, e.progress.tokensTotal);
  };
  const engine = await EngineClient.start({ modelDir: dir, provider: opts.provider, cudaLibDir: opts.cudaLibDir, threads: opts.threads, gpuRunTokens: opts.gpuRunTokens }, onEvent);
  const info = await engine.info();
  return { engine, info, model: { name: info.modelName, architecture: info.architecture, parameters: info.parameters, dir, importanceKind: info.importanceKind } };
}

/** Line starts (UTF-16 offsets) of a text split at '\n'. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineText(text: string, starts: number[], i: number): string {
  const end = i + 1 < starts.length ? starts[i + 1] - 1 : text.length;
  const s = text.slice(starts[i], end);
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

/** The cursor: 1-based line and column to an offset (default: the end of the file). */
export function cursorOf(text: string, starts: number[], line?: number, column?: number): { line: number; column: number; offset: number; atEnd: boolean } {
  if (line === undefined) {
    const last = starts.length - 1;
    return { line: last + 1, column: text.length - starts[last] + 1, offset: text.length, atEnd: true };
  }
  if (line > starts.length) throw new UsageError(`--line ${line}: the file has ${starts.length} lines`);
  const lt = lineText(text, starts, line - 1);
  const col = column ?? lt.length + 1;
  if (col > lt.length + 1) throw new UsageError(`--column ${col}: line ${line} has ${lt.length} characters`);
  const offset = starts[line - 1] + col - 1;
  return { line, column: col, offset, atEnd: offset === text.length };
}

export async function runMain(opts: MainOptions, log: Log, onProgress?: (done: number, total: number) => void): Promise<MainReport> {
  const file = path.resolve(opts.file ?? SAMPLE_FILE);
  const text = readText(file);
  const starts = lineStarts(text);
  const cursor = cursorOf(text, starts, opts.line, opts.column);
  const { engine, info, model } = await startEngine(opts, log, onProgress);
  try {
    const uri = pathToFileURL(file).toString();
    const t0 = performance.now(); // from handing over the text: tokenising is part of reading
    await engine.openDocument(uri, 1, text);
    const progress = await engine.read(uri);
    const readMs = performance.now() - t0;
    const stats = await engine.stats();
    const cursorLine = lineText(text, starts, cursor.line - 1);
    const after = cursorLine.slice(cursor.column - 1);
    const mode = after.trim() ? 'line' : 'block';
    const completion = await engine.complete({
      uri, version: 1, offset: cursor.offset, maxTokens: opts.maxTokens, temperature: opts.temperature, topP: opts.temperature > 0 ? 0.95 : 1,
      timeBudgetMs: opts.timeBudgetMs, mode, suffixLines: opts.suffixLines, seed: 1,
    });
    const summary = await engine.summarize(uri, opts.summaryLines);
    const thresholds = quantiles(await fileScores(engine, uri, text.length, opts.mode), LEVEL_QUANTILES);
    const to = Math.min(starts.length, opts.lines?.to ?? cursor.line);
    const from = Math.min(to, opts.lines?.from ?? Math.max(1, to - 29));
    const range = await engine.scores(uri, starts[from - 1], to < starts.length ? starts[to] : text.length);
    return {
      file, bytes: Buffer.byteLength(text), lines: starts.length, model, provider: info.provider, providerNote: info.providerNote,
      reading: { tokens: progress.tokensRead - 1, ms: readMs, tokensPerSecond: (progress.tokensRead - 1) / (readMs / 1000) },
      state: { bytes: info.stateBytes, checkpointBytes: stats.checkpointBytes },
      bitsPerByte: summary.bitsPerByte,
      completion: { ...completion, ...cursor, mode, linePrefix: cursorLine.slice(0, cursor.column - 1) },
      summary: summary.lines.map((l) => ({ line: l.line + 1, ...(l.column === undefined ? {} : { column: l.column + 1 }), text: l.text, score: l.score })),
      heatmap: { mode: opts.mode, from, to, quantiles: LEVEL_QUANTILES, thresholds, lines: heatLines(text, from, to, range, opts.mode, thresholds) },
    };
  } finally {
    await engine.dispose();
  }
}

/** The scores the heat map's levels come from: the whole file, or even slices of a very large one. */
async function fileScores(engine: EngineApi, uri: string, length: number, mode: HeatMode): Promise<number[]> {
  const slices = length <= SAMPLE_ABOVE ? [[0, length]] : Array.from({ length: 64 }, (_, k) => {
    const s = Math.floor((k * length) / 64);
    return [s, Math.min(length, s + 16 * 1024)];
  });
  const out: number[] = [];
  for (const [s, e] of slices) {
    const sc = await engine.scores(uri, s, e);
    for (const x of mode === 'importance' ? sc.importance : sc.surprisal) out.push(x);
  }
  return out;
}

/** Characters above which the levels come from 64 slices of 16 K characters (1 M of the file). */
const SAMPLE_ABOVE = 4 * 1024 * 1024;

export async function runScore(opts: ScoreOptions, log: Log): Promise<ScoreReport> {
  const texts = opts.files.map((f) => ({ file: path.resolve(f), text: readText(f) }));
  const { engine, info, model } = await startEngine(opts, log);
  try {
    const files: ScoreReport['files'] = [];
    for (const { file, text } of texts) {
      const uri = pathToFileURL(file).toString();
      const t0 = performance.now();
      await engine.openDocument(uri, 1, text);
      // summarize reads the whole file; its bits per byte is the sum of the text tokens'
      // surprisal over the UTF-8 bytes (the leading fim_prefix token is not text)
      const s = await engine.summarize(uri, 1);
      const bytes = Buffer.byteLength(text);
      files.push({ file, bytes, tokens: s.tokens, bits: s.bitsPerByte * bytes, bitsPerByte: s.bitsPerByte, ms: performance.now() - t0 });
      await engine.closeDocument(uri);
    }
    const bytes = files.reduce((a, f) => a + f.bytes, 0), bits = files.reduce((a, f) => a + f.bits, 0);
    return {
      model, provider: info.provider, providerNote: info.providerNote, files,
      total: { bytes, tokens: files.reduce((a, f) => a + f.tokens, 0), bits, bitsPerByte: bytes ? bits / bytes : 0 },
    };
  } finally {
    await engine.dispose();
  }
}
