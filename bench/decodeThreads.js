#!/usr/bin/env node
// Decoding steps through the engine's runner (model level, CPU provider) with the quantized
// one-token graph on one thread only and with a second session on several threads
// (RunnerOptions.decodeThreads: the runner picks the faster by recent measurements), side by
// side in one process, in alternating rounds so that load changes hit all of them alike. Each
// step decodes the greedy token of the previous one, as a completion does. Prints a table: ms
// per step (mean, median, p90) and how many steps went to the several-thread session; then the
// engine's completions (in this process, 3 x 33 tokens at the end of 1 KB of the sample file):
// ms per token after the first, which adds sampling, stop rules and the engine's scheduling.
//
//   node bench/decodeThreads.js [MODEL_FOLDER] [--decode-threads 1,4,8] [--steps 200] [--rounds 5]
// (build first: npx tsc -p .; on the GPU machine run it with bench/gpu.sh's node)
const os = require('os');
const path = require('path');
const fs = require('fs');
const { loadModel } = require('../out/src/engine/modelFolder');
const { Engine } = require('../out/src/engine/engine');

function args() {
  const a = process.argv.slice(2);
  const o = { dir: path.join(__dirname, '..', 'models', 'flowformer'), decodeThreads: [1, 4, 8], steps: 200, rounds: 5 };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--decode-threads') o.decodeThreads = a[++i].split(',').map(Number);
    else if (a[i] === '--steps') o.steps = Number(a[++i]);
    else if (a[i] === '--rounds') o.rounds = Number(a[++i]);
    else o.dir = a[i];
  }
  return o;
}

const argmax = (x) => { let b = 0; for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i; return b; };
const median = (x) => { const s = [...x].sort((a, b) => a - b); return s[s.length >> 1]; };
const quantile = (x, q) => { const s = [...x].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

(async () => {
  const o = args();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const runners = [];
  for (const d of o.decodeThreads) {
    const m = await loadModel(o.dir, { provider: 'cpu', threads: cores, decodeThreads: d });
    runners.push({ d, runner: m.runner, state: new Float32Array(m.manifest.stateSize), token: m.manifest.special.fim_prefix, ms: [] });
  }
  for (let r = 0; r < o.rounds; r++) {
    for (const x of runners) {
      for (let i = 0; i < o.steps; i++) {
        const t0 = performance.now();
        const out = await x.runner.run(Int32Array.of(x.token), x.state, 'decode');
        x.ms.push(performance.now() - t0);
        x.state = out.state;
        x.token = argmax(out.logits);
      }
    }
  }
  console.log(`${path.basename(o.dir)}: ${o.rounds} rounds x ${o.steps} decoding steps per runner, ${cores} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0].toFixed(2)}`);
  console.log('\n| decodeThreads | ms per step: mean | median | p90 | steps on the several-thread session |\n|---:|---:|---:|---:|---:|');
  for (const x of runners) {
    const mean = x.ms.reduce((a, b) => a + b, 0) / x.ms.length;
    console.log(`| ${x.d} | ${mean.toFixed(3)} | ${median(x.ms).toFixed(3)} | ${quantile(x.ms, 0.9).toFixed(3)} | ${x.runner.stats.stepThreadsRuns} of ${x.runner.stats.stepRuns} |`);
    await x.runner.dispose();
  }
  const sample = fs.readFileSync(path.join(__dirname, '..', 'samples', 'mypy_semanal.py'), 'utf8').slice(0, 1024);
  const text = sample.slice(0, sample.lastIndexOf('\n') + 1);
  console.log('\n| decodeThreads | completion: ms per token after the first (median of 3 x 33 tokens) |\n|---:|---:|');
  for (const d of o.decodeThreads) {
    const e = await Engine.create({ modelDir: o.dir, provider: 'cpu', threads: cores, decodeThreads: d, backgroundReading: false });
    await e.openDocument('bench', 1, text);
    await e.read('bench');
    const per = [];
    for (let k = 0; k < 3; k++) {
      const r = await e.complete({ uri: 'bench', version: 1, offset: text.length, maxTokens: 33, temperature: 0, topP: 1, timeBudgetMs: 60000, mode: 'block', suffixLines: 0, stopOnRepetition: false });
      if (r.tokens > 1) per.push((r.msTotal - r.msToFirstToken) / (r.tokens - 1));
    }
    console.log(`| ${d} | ${per.length ? median(per).toFixed(3) : 'n/a'} |`);
    await e.dispose();
  }
})();
