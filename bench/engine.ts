// Engine benchmark: prints one markdown table (BENCHMARKS.md holds the results).
//   npm run bench [-- --model DIR] [--provider cpu|cuda|auto] [--cuda-lib-dir DIR] [--threads N]
//                 [--chunks 64,256,1024] [--json FILE]
// Model level (in this process): prefill tokens/s per chunk size T and per-token decode time,
// each next to a plain chain of matmuls with the same parameter count, in the same run.
// Engine level (the engine's child process, as the extension runs it): time to the state at
// the cursor and to the first token while typing at the end of 1 KB, 100 KB and 1 MB files
// (warm state), after jumping into a fully read 1 MB file, and checkpoint memory; the same for a
// minified 1 MB file (one line).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { CompletionRequest, EngineInfo, ProviderChoice } from '../src/engine/api';
import { EngineClient } from '../src/engine/client';
import { defaultModelDir } from '../src/engine/defaultModel';
import { defaultCheckpointEvery } from '../src/engine/engine';
import { loadModel } from '../src/engine/modelFolder';
import { loadOrt } from '../src/engine/ortLoader';
import { seededRng } from '../src/engine/sampling';
import { MatmulChain } from './reference';
import { fileOfSize, minifiedOfSize, SIZES } from './texts';

const ROOT = path.resolve(__dirname, '..', '..');

interface Args { model: string; provider: ProviderChoice; cudaLibDir?: string; threads: number; chunks: number[]; json?: string; runTokens?: number }

function parse(argv: string[]): Args {
  const a: Args = { model: defaultModelDir(path.join(ROOT, 'models')) ?? '', provider: 'cpu', threads: os.availableParallelism?.() ?? os.cpus().length, chunks: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = () => argv[++i];
    switch (argv[i]) {
      case '--model': a.model = path.resolve(v()); break;
      case '--provider': a.provider = v() as ProviderChoice; break;
      case '--cuda-lib-dir': a.cudaLibDir = path.resolve(v()); break;
      case '--threads': a.threads = Number(v()); break;
      case '--chunks': a.chunks = v().split(',').map(Number); break;
      case '--json': a.json = v(); break;
      case '--run-tokens': a.runTokens = Number(v()); break;
      case '-h': case '--help':
        process.stdout.write('npm run bench -- [--model DIR] [--provider cpu|cuda|auto] [--cuda-lib-dir DIR] [--threads N] [--chunks 64,256,1024] [--json FILE] [--run-tokens N (longest reading run)]\n');
        process.exit(0);
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (!['cpu', 'cuda', 'auto'].includes(a.provider)) throw new Error(`--provider is cpu, cuda or auto`);
  if (!a.chunks.length) a.chunks = a.provider === 'cpu' ? [64, 256, 1024] : [64, 256, 1024, 4096, 16384, 65536];
  return a;
}

const median = (xs: number[]) => { const s = [...xs].sort((x, y) => x - y); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const max = (xs: number[]) => Math.max(...xs);

/**
 * Runs `once` until both minRuns and minMs are reached; ms per run is the mean (total time over
 * runs: what reading a file or decoding a completion costs, slow runs included).
 */
async function timeRuns(once: (i: number) => Promise<void>, minRuns: number, minMs: number, warmup = 2): Promise<{ msPerRun: number; runs: number; medianMs: number }> {
  for (let i = 0; i < warmup; i++) await once(i);
  const times: number[] = [];
  const t0 = performance.now();
  for (let i = 0; times.length < minRuns || performance.now() - t0 < minMs; i++) {
    const t = performance.now();
    await once(i);
    times.push(performance.now() - t);
    if (times.length >= 10_000) break;
  }
  return { msPerRun: times.reduce((x, y) => x + y, 0) / times.length, runs: times.length, medianMs: median(times) };
}

interface ModelLevel {
  prefill: { T: number; modelTokPerS: number; chainTokPerS: number; ratio: number }[];
  decodeMs: number; chainDecodeMs: number;
  chain: { width: number; layers: number; parameters: number };
  runnerProvider: string;
}

async function modelLevel(a: Args, tokens: Int32Array): Promise<ModelLevel> {
  // each T one graph run, also past the engine's default longest GPU run
  const m = await loadModel(a.model, { provider: a.provider, cudaLibDir: a.cudaLibDir, threads: a.threads, gpuMaxChunk: Math.max(...a.chunks) });
  const r = m.runner;
  const loaded = loadOrt(a.cudaLibDir, a.provider !== 'cpu');
  const chain = await MatmulChain.create(loaded, m.manifest.parameters, r.provider, a.threads);
  const x = chain.input(Math.max(...a.chunks));
  const prefill: ModelLevel['prefill'] = [];
  try {
    for (const T of a.chunks) {
      // the state is carried from run to run, as when reading a file
      let state: Float32Array = new Float32Array(m.manifest.stateSize);
      const n = Math.floor(tokens.length / T);
      const [all0, one0] = r.stats.bulkRuns;
      const mod = await timeRuns(async (i) => { state = (await r.run(tokens.subarray((i % n) * T, (i % n + 1) * T), state)).state; }, 8, 3000);
      const ref = await timeRuns(() => chain.run(x, T), 8, 3000);
      const mt = (T * 1000) / mod.msPerRun, ct = (T * 1000) / ref.msPerRun;
      prefill.push({ T, modelTokPerS: mt, chainTokPerS: ct, ratio: mt / ct });
      const [all1, one1] = r.stats.bulkRuns;
      log(`prefill T=${T}: model ${mt.toFixed(0)} tokens/s, matmul chain ${ct.toFixed(0)} tokens/s (${r.provider === 'cuda' ? 'runs on the GPU / the CPU' : 'CPU runs on all threads / one thread'}: ${all1 - all0} / ${one1 - one0})`);
    }
    let state: Float32Array = new Float32Array(m.manifest.stateSize);
    const gpu0 = r.stats.smallRuns[1];
    const steps0 = r.stats.stepRuns, threads0 = r.stats.stepThreadsRuns, runs0 = r.stats.runs;
    // a completion's next token ('decode': the quantized one-token graph when the folder has one,
    // beside a GPU too)
    const dec = await timeRuns(async (i) => { state = (await r.run(tokens.subarray(i % tokens.length, i % tokens.length + 1), state, 'decode')).state; }, 200, 2000, 5);
    const cdec = await timeRuns(() => chain.run(x, 1), 200, 2000, 5);
    // where the steps ran: the int8 step graph on one thread or several (RunnerOptions.decodeThreads), or the GPU
    const onThreads = r.stats.stepThreadsRuns - threads0;
    const onGpu = r.provider === 'cuda' ? r.stats.smallRuns[1] - gpu0 - onThreads : 0;
    const where = ` (of ${r.stats.runs - runs0} steps: ${r.stats.stepRuns - steps0} on the int8 step graph, ${onThreads} of them on several threads${r.provider === 'cuda' ? `; ${onGpu} on the GPU` : ''})`;
    // the median beside the mean: how much of the mean is a few slow steps (GC pauses, GPU trials)
    log(`decode: model ${dec.msPerRun.toFixed(3)} ms/token (median ${dec.medianMs.toFixed(3)}), matmul chain ${cdec.msPerRun.toFixed(3)} ms${where}`);
    return { prefill, decodeMs: dec.msPerRun, chainDecodeMs: cdec.msPerRun, chain: chain.info, runnerProvider: r.provider };
  } finally {
    await chain.dispose();
    await r.dispose();
  }
}

interface SizeRow {
  label: string; bytes: number; tokens: number; readMs: number; toState: number; toFirst: number; roundTrip: number; toFirstMax: number;
  /** The read's bulk runs on the runner's first and second choice, and the second's time (ms). */
  readRuns: [number, number]; secondChoiceMs: number;
}

interface EngineLevel {
  info: EngineInfo;
  sizes: SizeRow[];
  jump: { toFirst: number; toFirstMax: number; roundTrip: number; places: number };
  decodeMs: number;
  checkpointEvery: number;
  checkpointBytes1MB: number;
  /** The same for a minified 1 MB file: one line (absent without node_modules/typescript). */
  oneLine?: { size: SizeRow; jump: EngineLevel['jump']; checkpointBytes: number };
}

function req(uri: string, version: number, offset: number, extra: Partial<CompletionRequest> = {}): CompletionRequest {
  // the extension's defaults: fill-in-the-middle with 12 suffix lines, a block at a line end
  return { uri, version, offset, maxTokens: 1, temperature: 0, topP: 1, timeBudgetMs: 60_000, mode: 'block', suffixLines: 12, ...extra };
}

async function engineLevel(a: Args, sample: string): Promise<EngineLevel> {
  const runs = a.runTokens ? { runTokens: a.runTokens, urgentRunTokens: a.runTokens, gpuRunTokens: a.runTokens } : {};
  const c = await EngineClient.start({ modelDir: a.model, provider: a.provider, cudaLibDir: a.cudaLibDir, threads: a.threads, ...runs });
  const info = await c.info();
  const sizes: SizeRow[] = [];
  let jump: EngineLevel['jump'] | undefined;
  let decodeMs = NaN;
  let checkpointBytes1MB = NaN;
  let oneLine: EngineLevel['oneLine'] | undefined;
  try {
    const minified = minifiedOfSize(ROOT, 1024 * 1024);
    if (!minified) log('no node_modules/typescript/lib/typescript.js: the minified file is left out');
    const files = [...SIZES.map((s) => ({ label: s.label, text: fileOfSize(sample, s.bytes), typed: 'result = self.lookup(' })),
      ...(minified ? [{ label: '1 MB minified (one line)', text: minified, typed: ';x=e.lookup(' }] : [])];
    for (const size of files) {
      const text = size.text;
      const uri = `bench://${size.label}`;
      let version = 1;
      const before = await c.stats();
      const t0 = performance.now();
      await c.openDocument(uri, version, text);
      const read = await c.read(uri);
      const readMs = performance.now() - t0;
      const after = await c.stats();
      const readRuns: [number, number] = [after.bulkRuns[0] - before.bulkRuns[0], after.bulkRuns[1] - before.bulkRuns[1]];
      const secondChoiceMs = after.bulkMs[1] - before.bulkMs[1];
      if (size.label === '1 MB') checkpointBytes1MB = after.checkpointBytes;
      const oneLineFile = !text.includes('\n');
      // typing at the end of the file, one character per request, the state warm before each
      let cur = text;
      const toState: number[] = [], toFirst: number[] = [], round: number[] = [];
      for (const ch of size.typed) {
        await c.applyEdits(uri, ++version, [{ rangeOffset: cur.length, rangeLength: 0, text: ch }]);
        cur += ch;
        const t = performance.now();
        const r = await c.complete(req(uri, version, cur.length));
        round.push(performance.now() - t);
        toState.push(r.msToState); toFirst.push(r.msToFirstToken);
        await c.read(uri);
      }
      const row: SizeRow = { label: size.label, bytes: Buffer.byteLength(text), tokens: read.tokensRead - 1, readMs, toState: median(toState), toFirst: median(toFirst), roundTrip: median(round), toFirstMax: max(toFirst), readRuns, secondChoiceMs };
      if (!oneLineFile) sizes.push(row);
      log(`${size.label}: read ${read.tokensRead} tokens in ${readMs.toFixed(0)} ms (bulk runs on the first / second choice: ${readRuns.join(' / ')}, the second's ${secondChoiceMs.toFixed(0)} ms); typing: state ${median(toState).toFixed(1)} ms, first token ${median(toFirst).toFixed(1)} ms`);
      if (size.label === '1 KB') {
        // the median of seven completions: one is 32 decoding steps, and a GC pause is ~6 ms (three
        // gave 2.66 and 1.75 ms per token in two runs a minute apart on one GPU host, session 22)
        const perToken: number[] = [];
        for (let k = 0; k < 7; k++) {
          const r = await c.complete(req(uri, version, cur.length, { maxTokens: 33, mode: 'block', suffixLines: 0 }));
          if (r.tokens > 1) perToken.push((r.msTotal - r.msToFirstToken) / (r.tokens - 1));
        }
        if (perToken.length) decodeMs = median(perToken);
      }
      if (size.label === '1 MB' || oneLineFile) {
        // jumps to random places of the fully read file: the end of a random line (in one line: any place)
        const rnd = seededRng(7);
        const places: number[] = [];
        for (let i = cur.indexOf('\n'); i >= 0; i = cur.indexOf('\n', i + 1)) places.push(i);
        if (oneLineFile) for (let k = 0; k < 1000; k++) places.push(Math.floor(rnd() * cur.length));
        const first: number[] = [], rt: number[] = [];
        for (let k = 0; k < 12; k++) {
          const off = places[Math.floor(rnd() * places.length)];
          const t = performance.now();
          const r = await c.complete(req(uri, version, off));
          rt.push(performance.now() - t);
          first.push(r.msToFirstToken);
        }
        const j = { toFirst: median(first), toFirstMax: max(first), roundTrip: median(rt), places: first.length };
        if (oneLineFile) oneLine = { size: row, jump: j, checkpointBytes: after.checkpointBytes }; else jump = j;
        log(`${size.label} jumps: first token p50 ${median(first).toFixed(1)} ms, max ${max(first).toFixed(1)} ms`);
      }
      await c.closeDocument(uri);
    }
  } finally {
    await c.dispose();
  }
  return { info, sizes, jump: jump!, decodeMs, checkpointEvery: defaultCheckpointEvery(info.stateBytes), checkpointBytes1MB, oneLine };
}

function log(s: string): void {
  process.stderr.write(`  ${s}\n`);
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const k0 = (x: number) => Math.round(x).toLocaleString('en-US');
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MiB`;
const ok = (good: boolean) => (good ? 'yes' : '**no**');

function table(a: Args, ml: ModelLevel, el: EngineLevel): string {
  const i = el.info;
  const s = (l: string) => el.sizes.find((x) => x.label === l)!;
  const ratio = s('1 MB').toFirst / s('1 KB').toFirst;
  const rows: string[] = [];
  rows.push(`Model ${i.modelName} (${i.architecture}, ${(i.parameters / 1e6).toFixed(2)}M parameters), provider ${i.provider}${i.providerNote ? ` (${i.providerNote.split('.')[0]})` : ''}, ${a.threads} threads, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end; node ${process.version}.`);
  rows.push('');
  rows.push('| measure | value | target | met |');
  rows.push('|---|---:|---:|:---:|');
  for (const r of el.sizes) {
    rows.push(`| typing at the end of a ${r.label} file (${k0(r.tokens)} tokens), warm: request to state at cursor, p50 | ${f1(r.toState)} ms | | |`);
    rows.push(`| same: request to first token, p50 (max; client round trip p50) | ${f1(r.toFirst)} ms (${f1(r.toFirstMax)}; ${f1(r.roundTrip)}) | | |`);
  }
  rows.push(`| first token, 1 MB / 1 KB | ${f2(ratio)}x | <= 1.2x | ${ok(ratio <= 1.2)} |`);
  rows.push(`| jump to a random line end of a fully read 1 MB file: first token, p50 (max of ${el.jump.places}) | ${f1(el.jump.toFirst)} ms (${f1(el.jump.toFirstMax)}) | <= 1000 ms | ${ok(el.jump.toFirstMax <= 1000)} |`);
  const big = s('1 MB');
  rows.push(`| engine reading the 1 MB file (tokenise, run, checkpoint; bulk runs on the first / second choice, the second's time) | ${k0((big.tokens * 1000) / big.readMs)} tokens/s (${big.readRuns.join(' / ')}, ${k0(big.secondChoiceMs)} ms) | | |`);
  for (const p of ml.prefill) {
    rows.push(`| prefill T=${p.T}: model / matmul chain | ${k0(p.modelTokPerS)} / ${k0(p.chainTokPerS)} tokens/s = **${(100 * p.ratio).toFixed(0)}%** | ${a.provider === 'cpu' ? '>= 10,000 tokens/s; >= 70%' : '>= 1M tokens/s'} | ${ok(a.provider === 'cpu' ? p.modelTokPerS >= 10_000 && p.ratio >= 0.7 : p.modelTokPerS >= 1e6)} |`);
  }
  const decTarget = a.provider === 'cpu' ? 3 : 2;
  rows.push(`| decode, one token per run (model / matmul chain at T=1) | ${f2(ml.decodeMs)} / ${f2(ml.chainDecodeMs)} ms | <= ${decTarget} ms | ${ok(ml.decodeMs <= decTarget)} |`);
  rows.push(`| decode per token in a completion (engine: sampling, stop rules) | ${f2(el.decodeMs)} ms | | |`);
  rows.push(`| state bytes per checkpoint (the whole recurrent state) | ${k0(i.stateBytes)} B | <= 1 MiB | ${ok(i.stateBytes <= 1 << 20)} |`);
  rows.push(`| checkpoint spacing (default) / state bytes per million tokens | ${k0(el.checkpointEvery)} tokens / ${mib((i.stateBytes * Math.ceil(1e6 / el.checkpointEvery)))} | | |`);
  rows.push(`| checkpoint bytes of the 1 MB file, after reading it | ${mib(el.checkpointBytes1MB)} | <= 64 MiB | ${ok(el.checkpointBytes1MB <= 64 << 20)} |`);
  const o = el.oneLine;
  if (o) {
    rows.push(`| a minified 1 MB file (one line, ${k0(o.size.tokens)} tokens): reading | ${k0((o.size.tokens * 1000) / o.size.readMs)} tokens/s | | |`);
    rows.push(`| same: typing at its end, request to first token, p50 (max) | ${f1(o.size.toFirst)} ms (${f1(o.size.toFirstMax)}) | | |`);
    rows.push(`| same: jump to a random place in the line, first token p50 (max of ${o.jump.places}) | ${f1(o.jump.toFirst)} ms (${f1(o.jump.toFirstMax)}) | <= 1000 ms | ${ok(o.jump.toFirstMax <= 1000)} |`);
    rows.push(`| same: checkpoint bytes after reading it | ${mib(o.checkpointBytes)} | <= 64 MiB | ${ok(o.checkpointBytes <= 64 << 20)} |`);
  }
  rows.push('');
  rows.push(`Matmul chain: ${ml.chain.layers} fp32 ${ml.chain.width}x${ml.chain.width} matmuls with ReLU, ${(ml.chain.parameters / 1e6).toFixed(2)}M parameters, on ${ml.runnerProvider}.`);
  return rows.join('\n');
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (!a.model) throw new Error('no model folder found under models/; name one with --model DIR');
  const sample = fs.readFileSync(path.join(ROOT, 'samples', 'mypy_semanal.py'), 'utf8');
  log(`model ${a.model}, provider ${a.provider}, ${a.threads} threads`);
  const m = await loadModel(a.model, { provider: 'cpu', threads: 1 });
  const text = Int32Array.from([m.manifest.special.fim_prefix, ...m.tokenizer.encodeText(sample)]);
  // the sample repeated where a run is longer than half of it (the GPU's longest runs)
  const copies = Math.max(1, Math.ceil((2 * Math.max(...a.chunks)) / text.length));
  const tokens = new Int32Array(text.length * copies);
  for (let i = 0; i < copies; i++) tokens.set(text, i * text.length);
  await m.runner.dispose();
  const ml = await modelLevel(a, tokens);
  const el = await engineLevel(a, sample);
  const out = table(a, ml, el);
  process.stdout.write(out + '\n');
  if (a.json) fs.writeFileSync(a.json, JSON.stringify({ args: a, modelLevel: ml, engineLevel: el, date: new Date().toISOString() }, null, 2));
}

main().catch((e: Error) => { process.stderr.write(`bench: ${e.message}\n`); process.exitCode = 1; });
