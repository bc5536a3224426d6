#!/usr/bin/env node
// Decoding steps through the engine's runner (model level, CPU provider) with the quantized
// one-token graph on one thread only and with a second session on several threads
// (RunnerOptions.decodeThreads: the runner picks the faster by recent measurements), each
// configuration in a process of its own, in alternating rounds so that load changes hit all of
// them alike. Each step decodes the greedy token of the previous one, as a completion does.
// Then the engine's completions (3 x 33 tokens at the end of 1 KB of the sample file): ms per
// token after the first, which adds sampling, stop rules and the engine's scheduling. Prints a
// table.
//
//   node bench/decodeThreads.js [MODEL_FOLDER] [--decode-threads 1,4,8] [--steps 200] [--rounds 5]
// (build first: npx tsc -p .; on the GPU machine run it with bench/gpu.sh's node)
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadModel } = require('../out/src/engine/modelFolder');
const { Engine } = require('../out/src/engine/engine');

function args() {
  const a = process.argv.slice(2);
  const o = { dir: path.join(__dirname, '..', 'models', 'flowformer'), decodeThreads: [1, 4, 8], steps: 200, rounds: 5, one: undefined };
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '--decode-threads') o.decodeThreads = a[++i].split(',').map(Number);
    else if (a[i] === '--steps') o.steps = Number(a[++i]);
    else if (a[i] === '--rounds') o.rounds = Number(a[++i]);
    else if (a[i] === '--one') o.one = Number(a[++i]);
    else o.dir = a[i];
  }
  return o;
}

const argmax = (x) => { let b = 0; for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i; return b; };
const median = (x) => { const s = [...x].sort((a, b) => a - b); return s[s.length >> 1]; };
const quantile = (x, q) => { const s = [...x].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

// one configuration in this process (a child of the run below): prints its measurements as JSON
async function measureOne(o, d) {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const m = await loadModel(o.dir, { provider: 'cpu', threads: cores, decodeThreads: d });
  let state = new Float32Array(m.manifest.stateSize);
  let token = m.manifest.special.fim_prefix;
  const ms = [];
  for (let i = 0; i < o.steps; i++) {
    const t0 = performance.now();
    const out = await m.runner.run(Int32Array.of(token), state, 'decode');
    ms.push(performance.now() - t0);
    state = out.state;
    token = argmax(out.logits);
  }
  const { stepRuns, stepThreadsRuns } = m.runner.stats;
  await m.runner.dispose();
  const sample = fs.readFileSync(path.join(__dirname, '..', 'samples', 'mypy_semanal.py'), 'utf8').slice(0, 1024);
  const text = sample.slice(0, sample.lastIndexOf('\n') + 1);
  const e = await Engine.create({ modelDir: o.dir, provider: 'cpu', threads: cores, decodeThreads: d, backgroundReading: false });
  await e.openDocument('bench', 1, text);
  await e.read('bench');
  const perToken = [];
  for (let k = 0; k < 3; k++) {
    const r = await e.complete({ uri: 'bench', version: 1, offset: text.length, maxTokens: 33, temperature: 0, topP: 1, timeBudgetMs: 60000, mode: 'block', suffixLines: 0, stopOnRepetition: false });
    if (r.tokens > 1) perToken.push((r.msTotal - r.msToFirstToken) / (r.tokens - 1));
  }
  await e.dispose();
  process.stdout.write(JSON.stringify({ ms, stepRuns, stepThreadsRuns, perToken }) + '\n');
}

(async () => {
  const o = args();
  if (o.one !== undefined) return measureOne(o, o.one);
  // each configuration in a process of its own, in alternating rounds: another runner's
  // spinning threads in the same process would take the cores this one measures on
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const all = new Map(o.decodeThreads.map((d) => [d, { ms: [], stepRuns: 0, stepThreadsRuns: 0, perToken: [] }]));
  for (let r = 0; r < o.rounds; r++) {
    for (const d of o.decodeThreads) {
      const out = execFileSync(process.execPath, [__filename, o.dir, '--one', String(d), '--steps', String(o.steps)], { encoding: 'utf8' });
      const x = JSON.parse(out.trim().split('\n').pop());
      const acc = all.get(d);
      acc.ms.push(...x.ms); acc.stepRuns += x.stepRuns; acc.stepThreadsRuns += x.stepThreadsRuns; acc.perToken.push(...x.perToken);
    }
  }
  console.log(`${path.basename(o.dir)}: ${o.rounds} rounds x ${o.steps} decoding steps and 3 completions per configuration, each in its own process; ${cores} cores (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0].toFixed(2)}`);
  console.log('\n| decodeThreads | ms per step: mean | median | p90 | steps on the several-thread session | completion: ms per token after the first, median |\n|---:|---:|---:|---:|---:|---:|');
  for (const [d, x] of all) {
    const mean = x.ms.reduce((a, b) => a + b, 0) / x.ms.length;
    console.log(`| ${d} | ${mean.toFixed(3)} | ${median(x.ms).toFixed(3)} | ${quantile(x.ms, 0.9).toFixed(3)} | ${x.stepThreadsRuns} of ${x.stepRuns} | ${median(x.perToken).toFixed(3)} |`);
  }
})();
