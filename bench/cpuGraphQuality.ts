// Quality of a model folder's CPU graph (files.graph_cpu, weight-quantized) against its float
// graph (files.graph) on real text: each graph reads the same tokens in chunks with its own
// state carried, as the engine would run it, and the outputs are compared.
//   node out/bench/cpuGraphQuality.js [--model DIR] [--cpu-graph FILE] [--file FILE] [--tokens N] [--chunk T] [--decode N] [--json FILE]
// Prints: mean |surprisal difference| (bits), bits per byte of both and their relative
// difference, top-1 next-token agreement (one-token decode runs after the text, each graph fed
// the same tokens), logits difference at chunk ends, and the state drift (relative L2 of the
// whole state, and the worst state tensor) at a few token counts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-node';
import { defaultModelDir } from '../src/engine/defaultModel';
import { loadManifest, Manifest } from '../src/engine/manifest';
import { loadTokenizer } from '../src/engine/modelFolder';
import { loadOrt } from '../src/engine/ortLoader';

const ROOT = path.resolve(__dirname, '..', '..');

export interface DriftPoint { tokens: number; relL2: number; worstTensor: string; worstRelL2: number }

export interface GraphComparison {
  model: string;
  graphs: [string, string];
  tokens: number;
  bytes: number;
  chunk: number;
  meanAbsSurprisalDiffBits: number;
  maxAbsSurprisalDiffBits: number;
  bitsPerByte: [number, number];
  bitsPerByteRelDiff: number;
  chunkEndTop1Agreement: number;
  chunkEnds: number;
  maxAbsLogitDiff: number;
  decodeTop1Agreement: number;
  decodeSteps: number;
  drift: DriftPoint[];
}

export interface CompareOptions { cpuGraph?: string; tokens?: number; chunk?: number; decode?: number; driftAt?: number[]; threads?: number }

function argmax(a: Float32Array): number {
  let b = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
  return b;
}

function l2(a: Float32Array, b: Float32Array | undefined, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) { const d = a[i] - (b ? b[i] : 0); s += d * d; }
  return Math.sqrt(s);
}

/** |got - ref| / |ref| (L2) over [from, to) (default: all): how far a carried state has drifted. */
export function relL2(got: Float32Array, ref: Float32Array, from = 0, to = ref.length): number {
  return l2(got, ref, from, to) / Math.max(1e-12, l2(ref, undefined, from, to));
}

function drift(m: Manifest, ref: Float32Array, got: Float32Array, tokens: number): DriftPoint {
  let worst = '', worstRel = 0;
  for (const t of m.stateTensors) {
    const n = t.shape.reduce((x, y) => x * y, 1);
    const rel = relL2(got, ref, t.offset, t.offset + n);
    if (rel > worstRel && l2(ref, undefined, t.offset, t.offset + n) > 1e-6) { worstRel = rel; worst = t.name; }
  }
  return { tokens, relL2: relL2(got, ref), worstTensor: worst, worstRelL2: worstRel };
}

/** Reads `text` (document format: fim_prefix + text) with both graphs of the folder and compares. */
export async function compareGraphs(dir: string, text: string, opts: CompareOptions = {}): Promise<GraphComparison> {
  const m = loadManifest(dir);
  if (opts.cpuGraph) m.graphCpuFile = path.join(dir, opts.cpuGraph);
  if (!m.graphCpuFile) throw new Error(`${m.manifestFile}: no files.graph_cpu to compare`);
  const tok = loadTokenizer(m);
  const ids = [m.special.fim_prefix, ...tok.encodeText(text)].slice(0, (opts.tokens ?? 8192) + 1);
  const chunk = Math.min(opts.chunk ?? 256, m.maxChunk > 0 ? m.maxChunk : Infinity);
  const driftAt = new Set(opts.driftAt ?? [512, 2048, 4096, 8192, 16384]);
  const { ort } = loadOrt(undefined, false);
  const so: InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: opts.threads ?? Math.min(2, os.cpus().length), interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
  const sessions = [await ort.InferenceSession.create(m.graphFile, so), await ort.InferenceSession.create(m.graphCpuFile, so)];
  // a CPU graph in two files (model/quantize.py): long chunks run its long form, as in the engine
  const long = !opts.cpuGraph && m.graphCpuLongFile ? await ort.InferenceSession.create(m.graphCpuLongFile, so) : undefined;
  if (long) sessions.push(long);
  const states: Float32Array[] = [new Float32Array(m.stateSize), new Float32Array(m.stateSize)];
  const run = async (g: number, t: number[]) => {
    const session = g === 1 && long && t.length >= m.graphCpuLongMinTokens! ? long : sessions[g];
    const r = await session.run({
      tokens: new ort.Tensor('int64', BigInt64Array.from(t, (x) => BigInt(x)), [t.length]),
      state: new ort.Tensor('float32', states[g], [m.stateSize]),
    });
    states[g] = r.state_out.data as Float32Array;
    return { logits: r.logits.data as Float32Array, surprisal: r.surprisal.data as Float32Array };
  };
  let sumAbs = 0, maxAbs = 0, bits0 = 0, bits1 = 0, agree = 0, ends = 0, maxLogit = 0;
  const points: DriftPoint[] = [];
  for (let i = 0; i < ids.length; i += chunk) {
    const t = ids.slice(i, i + chunk);
    const [a, b] = [await run(0, t), await run(1, t)];
    for (let k = 0; k < t.length; k++) {
      if (i + k === 0) continue;             // the document's first token has no prefix
      const d = Math.abs(a.surprisal[k] - b.surprisal[k]);
      sumAbs += d; maxAbs = Math.max(maxAbs, d);
      bits0 += a.surprisal[k]; bits1 += b.surprisal[k];
    }
    ends++;
    if (argmax(a.logits) === argmax(b.logits)) agree++;
    for (let v = 0; v < a.logits.length; v++) maxLogit = Math.max(maxLogit, Math.abs(a.logits[v] - b.logits[v]));
    const read = i + t.length;
    for (const p of driftAt) if (read - t.length < p && read >= p) points.push(drift(m, states[0], states[1], read));
  }
  if (!points.length || points[points.length - 1].tokens < ids.length - 1) points.push(drift(m, states[0], states[1], ids.length));
  // greedy decoding from the float graph's choices; both graphs are fed the same tokens
  let decodeAgree = 0;
  const steps = opts.decode ?? 64;
  let next = [ids[ids.length - 1]];
  for (let s = 0; s < steps; s++) {
    const [a, b] = [await run(0, next), await run(1, next)];
    const ta = argmax(a.logits);
    if (ta === argmax(b.logits)) decodeAgree++;
    next = [ta];
  }
  for (const s of sessions) await s.release();
  const bytes = tok.bytesOf(ids.slice(1)).length;
  const n = ids.length - 1;
  return {
    model: m.name,
    graphs: [path.basename(m.graphFile), path.basename(m.graphCpuFile)],
    tokens: n,
    bytes,
    chunk,
    meanAbsSurprisalDiffBits: sumAbs / n,
    maxAbsSurprisalDiffBits: maxAbs,
    bitsPerByte: [bits0 / bytes, bits1 / bytes],
    bitsPerByteRelDiff: (bits1 - bits0) / bits0,
    chunkEndTop1Agreement: agree / ends,
    chunkEnds: ends,
    maxAbsLogitDiff: maxLogit,
    decodeTop1Agreement: steps ? decodeAgree / steps : NaN,
    decodeSteps: steps,
    drift: points,
  };
}

export function formatComparison(c: GraphComparison): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return [
    `${c.model}: ${c.graphs[1]} vs ${c.graphs[0]}, ${c.tokens} tokens (${c.bytes} bytes) in chunks of ${c.chunk}`,
    `  surprisal |diff|: mean ${c.meanAbsSurprisalDiffBits.toPrecision(3)} bits, max ${c.maxAbsSurprisalDiffBits.toPrecision(3)} bits`,
    `  bits per byte: float ${c.bitsPerByte[0].toFixed(4)}, cpu graph ${c.bitsPerByte[1].toFixed(4)} (${c.bitsPerByteRelDiff >= 0 ? '+' : ''}${pct(c.bitsPerByteRelDiff)})`,
    `  top-1 next token: ${pct(c.chunkEndTop1Agreement)} of ${c.chunkEnds} chunk ends, ${pct(c.decodeTop1Agreement)} of ${c.decodeSteps} greedy decode steps; max |logit diff| at chunk ends ${c.maxAbsLogitDiff.toPrecision(3)}`,
    ...c.drift.map((d) => `  state drift after ${d.tokens} tokens: relative L2 ${d.relL2.toExponential(2)} (worst tensor ${d.worstTensor} ${d.worstRelL2.toExponential(2)})`),
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  let dir = defaultModelDir(path.join(ROOT, 'models')) ?? '', file = path.join(ROOT, 'samples', 'mypy_semanal.py'), json: string | undefined;
  const opts: CompareOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    switch (argv[i]) {
      case '--model': dir = path.resolve(v()); break;
      case '--cpu-graph': opts.cpuGraph = v(); break;
      case '--file': file = path.resolve(v()); break;
      case '--tokens': opts.tokens = Number(v()); break;
      case '--chunk': opts.chunk = Number(v()); break;
      case '--decode': opts.decode = Number(v()); break;
      case '--threads': opts.threads = Number(v()); break;
      case '--json': json = v(); break;
      default: throw new Error(`unknown option ${argv[i]}; usage: [--model DIR] [--cpu-graph FILE] [--file FILE] [--tokens N] [--chunk T] [--decode N] [--threads N] [--json FILE]`);
    }
  }
  const c = await compareGraphs(dir, fs.readFileSync(file, 'utf8'), opts);
  process.stdout.write(formatComparison(c) + '\n');
  if (json) fs.writeFileSync(json, JSON.stringify(c, null, 1));
}

if (require.main === module) main(process.argv.slice(2)).catch((e) => { process.stderr.write(`${(e as Error).stack ?? e}\n`); process.exit(1); });
