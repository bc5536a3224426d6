#!/usr/bin/env node
// Where a graph's time goes: runs one graph of a model folder with ONNX Runtime's profiler on
// (state carried from run to run, as when reading a file) and prints a table of kernel time per
// run by part of the model and by op type. The profiler adds a little per node, so use it to
// see shares, and bench/graphSpeed.js for speeds.
//
//   node bench/graphProfile.js models/flowformer model-int8-long.onnx --T 1024 [--runs 10] [--threads 2] [--top 25] [--nodes 0]
// (--nodes N: also the N costliest single nodes, by name)
const fs = require('fs');
const os = require('os');
const path = require('path');
// the repo's onnxruntime-node, else one on NODE_PATH (bench/gpu.sh's unpacked CUDA build)
const repoOrt = path.join(__dirname, '..', 'node_modules', 'onnxruntime-node');
const ort = require(fs.existsSync(repoOrt) ? repoOrt : 'onnxruntime-node');

function args() {
  const a = process.argv.slice(2);
  const o = { dir: undefined, graph: undefined, T: 1024, runs: 10, threads: 2, provider: 'cpu', top: 25, nodes: 0 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--T') o.T = Number(a[++i]);
    else if (a[i] === '--runs') o.runs = Number(a[++i]);
    else if (a[i] === '--threads') o.threads = Number(a[++i]);
    else if (a[i] === '--provider') o.provider = a[++i];
    else if (a[i] === '--top') o.top = Number(a[++i]);
    else if (a[i] === '--nodes') o.nodes = Number(a[++i]);
    else if (!o.dir) o.dir = a[i];
    else o.graph = a[i];
  }
  if (!o.dir || !o.graph) { console.error('usage: node bench/graphProfile.js MODEL_FOLDER GRAPH [--T 1024] [--runs 10] [--threads 2] [--provider cpu|cuda] [--top 25] [--nodes 0]'); process.exit(2); }
  return o;
}

/** The part of the model a node belongs to, from the names the exporter and quantize.py give. */
function part(name) {
  if (/_q_(mm)$/.test(name)) return /blocks\./.test(name) ? 'int8 matmuls' : 'int8 matmul: output head';
  if (/_q_rowscale$/.test(name)) return /blocks\./.test(name) ? 'int8: row scales of outputs' : 'int8: row scales of the head';
  if (/_q_\w+$/.test(name)) return 'int8: activation codes';
  if (/\/conv\//.test(name)) return 'short convolutions';
  if (/\/mixer\//.test(name)) return 'token mixing (attention, state)';
  if (/blocks\./.test(name)) return 'block: norms, GELU, residuals';
  return 'embedding, head, surprisal, state packing';
}

(async () => {
  const o = args();
  const man = JSON.parse(fs.readFileSync(path.join(o.dir, 'manifest.json'), 'utf8'));
  const prefix = path.join(os.tmpdir(), `flowstate-profile-${process.pid}`);
  const s = await ort.InferenceSession.create(path.join(o.dir, o.graph), {
    executionProviders: [o.provider], intraOpNumThreads: o.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    executionMode: 'sequential', enableProfiling: true, profileFilePrefix: prefix,
  });
  const tokens = BigInt64Array.from({ length: o.T }, (_, i) => BigInt(5 + (i * 7919) % (man.vocab_size - 100)));
  let state = new Float32Array(man.state.size);
  for (let i = 0; i < o.runs; i++) {
    const out = await s.run({ tokens: new ort.Tensor('int64', tokens, [o.T]), state: new ort.Tensor('float32', state, [state.length]) });
    state = out.state_out.data;
  }
  await s.release();   // writes the profile
  const file = fs.readdirSync(os.tmpdir()).map((f) => path.join(os.tmpdir(), f)).find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!file) throw new Error('no profile written');
  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.rmSync(file);
  const byPart = new Map(), byOp = new Map(), byNode = new Map();
  let runs = 0, total = 0;
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run') runs++;
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length), op = e.args.op_name;
    total += e.dur;
    byPart.set(part(name), (byPart.get(part(name)) ?? 0) + e.dur);
    const k = byOp.get(op) ?? { us: 0, n: 0 };
    k.us += e.dur; k.n++;
    byOp.set(op, k);
    byNode.set(`${name} (${op})`, (byNode.get(`${name} (${op})`) ?? 0) + e.dur);
  }
  const ms = (us) => (us / runs / 1000).toFixed(2);
  const pct = (us) => `${(100 * us / total).toFixed(1)}%`;
  console.log(`${o.dir}/${o.graph}: T=${o.T}, ${o.threads} threads, ${runs} runs; kernel time ${ms(total)} ms per run (${Math.round(o.T / (total / runs / 1e6))} tokens/s under the profiler)`);
  console.log('\n| part | ms per run | share |\n|---|---:|---:|');
  for (const [k, us] of [...byPart].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${ms(us)} | ${pct(us)} |`);
  console.log('\n| op | ms per run | share | nodes per run |\n|---|---:|---:|---:|');
  for (const [k, v] of [...byOp].sort((a, b) => b[1].us - a[1].us).slice(0, o.top)) console.log(`| ${k} | ${ms(v.us)} | ${pct(v.us)} | ${Math.round(v.n / runs)} |`);
  if (o.nodes > 0) {
    console.log('\n| node | ms per run | share |\n|---|---:|---:|');
    for (const [k, us] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, o.nodes)) console.log(`| ${k} | ${ms(us)} | ${pct(us)} |`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
