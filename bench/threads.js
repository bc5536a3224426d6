#!/usr/bin/env node
// How ONNX Runtime's CPU threading behaves on a small shared machine, for one graph of a model
// folder (default: the graph the engine runs on the CPU): ms per run at chunk sizes T with the
// state carried, for 1 thread, N threads with spinning pool threads (ONNX Runtime's default) and
// N threads without spinning; first on a quiet machine, then with one core kept busy by another
// process (as the editor, its language servers and the renderer do). The variants alternate
// within each round, so load changes hit them alike. Prints a markdown table.
//
//   node bench/threads.js models/flowformer [--T 1,64,256] [--threads 2] [--rounds 3] [--ms 1000]
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const ort = require(path.join(__dirname, '..', 'node_modules', 'onnxruntime-node'));

function args() {
  const a = process.argv.slice(2);
  const o = { dir: undefined, T: [1, 64, 256], threads: 2, rounds: 3, ms: 1000 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--T') o.T = a[++i].split(',').map(Number);
    else if (a[i] === '--threads') o.threads = Number(a[++i]);
    else if (a[i] === '--rounds') o.rounds = Number(a[++i]);
    else if (a[i] === '--ms') o.ms = Number(a[++i]);
    else if (!o.dir) o.dir = a[i];
  }
  if (!o.dir) { console.error('usage: node bench/threads.js MODEL_FOLDER [--T 1,64,256] [--threads 2] [--rounds 3] [--ms 1000]'); process.exit(2); }
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(sessions, man, o) {
  const res = sessions.map(() => ({}));
  for (let r = 0; r < o.rounds; r++) {
    for (const T of o.T) {
      for (const [i, s] of sessions.entries()) {
        let state = new Float32Array(man.state.size);
        const run = async (seed) => {
          const ids = BigInt64Array.from({ length: T }, (_, k) => BigInt(5 + ((k + seed) * 7919) % (man.vocab_size - 100)));
          state = (await s.session.run({ tokens: new ort.Tensor('int64', ids, [T]), state: new ort.Tensor('float32', state, [state.length]) })).state_out.data;
        };
        await run(0);
        let n = 0; const t0 = performance.now();
        while (performance.now() - t0 < o.ms || n < 3) await run(++n);
        (res[i][T] ??= []).push((performance.now() - t0) / n);
      }
    }
  }
  return res.map((byT) => Object.fromEntries(Object.entries(byT).map(([T, xs]) => [T, median(xs)])));
}

(async () => {
  const o = args();
  const man = JSON.parse(fs.readFileSync(path.join(o.dir, 'manifest.json'), 'utf8'));
  const graph = man.files?.graph_cpu ?? man.files?.graph ?? 'model.onnx';
  const base = { executionProviders: ['cpu'], interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' };
  const variants = [
    ['1 thread', { intraOpNumThreads: 1 }],
    [`${o.threads} threads, spinning`, { intraOpNumThreads: o.threads }],
    [`${o.threads} threads, no spinning`, { intraOpNumThreads: o.threads, extra: { session: { intra_op: { allow_spinning: '0' } } } }],
  ];
  const sessions = [];
  for (const [name, v] of variants) sessions.push({ name, session: await ort.InferenceSession.create(path.join(o.dir, graph), { ...base, ...v }) });
  const quiet = await measure(sessions, man, o);
  const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  let loaded;
  try { loaded = await measure(sessions, man, o); } finally { busy.kill(); }
  console.log(`${o.dir} (${graph}): ms per run, median of ${o.rounds} rounds x ${o.ms} ms; load average ${require('os').loadavg()[0].toFixed(2)}`);
  console.log(`| T | ${sessions.map((s) => `${s.name}, quiet`).join(' | ')} | ${sessions.map((s) => `${s.name}, one core busy`).join(' | ')} |`);
  console.log(`|---:|${sessions.map(() => '---:|').join('')}${sessions.map(() => '---:|').join('')}`);
  const cell = (ms, T) => (T > 1 ? `${ms.toFixed(2)} (${Math.round((T / ms) * 1000).toLocaleString('en-US')} tok/s)` : ms.toFixed(2));
  for (const T of o.T) console.log(`| ${T} | ${quiet.map((q) => cell(q[T], T)).join(' | ')} | ${loaded.map((q) => cell(q[T], T)).join(' | ')} |`);
  for (const s of sessions) await s.session.release();
})().catch((e) => { console.error(e); process.exit(1); });
