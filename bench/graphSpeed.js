#!/usr/bin/env node
// Graph-level CPU speed of a model folder's graphs, side by side in one process (the machine is
// shared and noisy: compare ratios from the same run). For each graph: prefill tokens/s at
// chunk sizes T with the state carried from run to run, and ms per single-token run (T=1).
// Rounds alternate between the graphs so that load changes hit all of them alike.
//
//   node bench/graphSpeed.js models/flowformer                      # model.onnx vs files.graph_cpu
//   node bench/graphSpeed.js models/flowformer model.onnx model-q4.onnx --T 1,64,256,512 --rounds 3
//   (--provider cuda: on the GPU machine, with bench/gpu.sh's unpacked onnxruntime-node on NODE_PATH)
// A graph given as a path with a folder (other/model-int8.onnx) is that folder's, with its own
// manifest (state size): two models side by side.
const fs = require('fs');
const path = require('path');
// the repo's onnxruntime-node, else one on NODE_PATH (bench/gpu.sh's unpacked CUDA build)
const repoOrt = path.join(__dirname, '..', 'node_modules', 'onnxruntime-node');
const ort = require(fs.existsSync(repoOrt) ? repoOrt : 'onnxruntime-node');

function args() {
  const a = process.argv.slice(2);
  const o = { dir: undefined, graphs: [], T: [1, 64, 256, 512], rounds: 3, threads: 2, provider: 'cpu', ms: 1500, json: undefined };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--T') o.T = a[++i].split(',').map(Number);
    else if (a[i] === '--rounds') o.rounds = Number(a[++i]);
    else if (a[i] === '--threads') o.threads = Number(a[++i]);
    else if (a[i] === '--provider') o.provider = a[++i];
    else if (a[i] === '--ms') o.ms = Number(a[++i]);
    else if (a[i] === '--json') o.json = a[++i];
    else if (!o.dir) o.dir = a[i];
    else o.graphs.push(a[i]);
  }
  if (!o.dir) { console.error('usage: node bench/graphSpeed.js MODEL_FOLDER [GRAPH ...] [--T 1,64,256,512] [--rounds 3] [--threads 2] [--provider cpu|cuda] [--ms 1500] [--json FILE]'); process.exit(2); }
  return o;
}

(async () => {
  const o = args();
  const manifestOf = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const man = manifestOf(o.dir);
  if (!o.graphs.length) o.graphs = [man.files?.graph ?? 'model.onnx', ...(man.files?.graph_cpu ? [man.files.graph_cpu] : [])];
  const file = (g) => (g.includes('/') ? g : path.join(o.dir, g));
  const stateSize = o.graphs.map((g) => manifestOf(path.dirname(file(g))).state.size);
  const sessions = [];
  for (const g of o.graphs) {
    sessions.push(await ort.InferenceSession.create(file(g), {
      executionProviders: [o.provider], intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential',
    }));
  }
  const toks = (T, seed) => BigInt64Array.from({ length: T }, (_, i) => BigInt(5 + ((i + seed) * 7919) % (man.vocab_size - 100)));
  const best = o.graphs.map(() => ({}));   // per graph, per T: ms per run (median over rounds)
  const all = o.graphs.map(() => ({}));
  for (let r = 0; r < o.rounds; r++) {
    for (const T of o.T) {
      for (const [gi, s] of sessions.entries()) {
        let state = new Float32Array(stateSize[gi]);
        const run = async (seed) => { const out = await s.run({ tokens: new ort.Tensor('int64', toks(T, seed), [T]), state: new ort.Tensor('float32', state, [state.length]) }); state = out.state_out.data; };
        await run(0); await run(1);
        let n = 0; const t0 = performance.now();
        while (performance.now() - t0 < o.ms || n < 3) await run(n++ + 2);
        const ms = (performance.now() - t0) / n;
        (all[gi][T] ??= []).push(ms);
      }
    }
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const rows = [];
  const load = require('os').loadavg()[0].toFixed(2);
  console.log(`${o.dir}: ${o.threads} threads, ${o.rounds} rounds x ${o.ms} ms, median per run; load average ${load}`);
  console.log(['T', ...o.graphs.map((g) => `${g} ms/run (tok/s)`), ...o.graphs.slice(1).map((g) => `speed-up ${g}`)].join(' | '));
  for (const T of o.T) {
    const ms = o.graphs.map((_, gi) => med(all[gi][T]));
    rows.push({ T, ms: Object.fromEntries(o.graphs.map((g, gi) => [g, ms[gi]])) });
    console.log([T, ...ms.map((x) => `${x.toFixed(2)} (${Math.round(T / x * 1000)})`), ...ms.slice(1).map((x) => `${(ms[0] / x).toFixed(2)}x`)].join(' | '));
  }
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ dir: o.dir, threads: o.threads, load, rows }, null, 1));
  for (const s of sessions) await s.release();
})().catch((e) => { console.error(e); process.exit(1); });
