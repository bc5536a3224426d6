// What reading costs the engine itself: the reading loop (BackgroundReader, Replayer: tokenising,
// runs of up to 16,384 tokens, checkpoints every 2,816 tokens, scores) over a model that costs
// nothing, so the tokens/s it reaches are the ceiling of reading beside a GPU (the H200 reads
// ~1M tokens/s). With the tokenizer library the engine used until session 25 and with its own
// byte-level BPE, alternating; each file read once per round. Prints a table.
//   npx tsc -p . && node out/bench/readingCeiling.js [--rounds 3]
import * as fs from 'fs';
import * as path from 'path';
import { newCancelToken } from '../src/engine/cancellation';
import { CheckpointBudget } from '../src/engine/checkpoints';
import { Document } from '../src/engine/document';
import { loadManifest } from '../src/engine/manifest';
import type { ModelRunner, RunOutput } from '../src/engine/modelRunner';
import { PriorityGate } from '../src/engine/priorityGate';
import { BackgroundReader } from '../src/engine/reader';
import { Replayer } from '../src/engine/replay';
import { LineTokenizer } from '../src/engine/tokenizer';
import { minifiedOfSize } from './texts';

const ROOT = path.join(__dirname, '..', '..');
const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;

async function readOnce(useLibrary: boolean, label: string, text: string): Promise<{ tokens: number; ms: number }> {
  const manifest = loadManifest(path.join(ROOT, 'models', 'flowformer'));
  // with useLibrary, the library alone, as before session 25
  const tokenizer = new LineTokenizer(JSON.parse(fs.readFileSync(manifest.tokenizerFile, 'utf8')), manifest.tokenizerFile, { libraryOnly: useLibrary });
  const runner = {
    manifest: { stateSize: manifest.stateSize },
    // what a run hands back (a new state, scores), made at no model cost
    async run(tokens: Int32Array, state: Float32Array): Promise<RunOutput> {
      return { logits: new Float32Array(manifest.vocabSize), state: new Float32Array(state), importance: new Float32Array(tokens.length), surprisal: new Float32Array(tokens.length) };
    },
  };
  // the engine's configuration beside a GPU (engine.ts): runs as long as the GPU takes whole
  const replayer = new Replayer(runner as unknown as ModelRunner, new PriorityGate(), { checkpointEvery: 2816, runTokens: 16384, urgentRunTokens: 16384 });
  const doc = new Document(label, 1, text, 'javascript', tokenizer, new CheckpointBudget(1 << 30), manifest.special.fim_prefix);
  const reader = new BackgroundReader(() => [doc], replayer, { background: true, editDebounceMs: 0, refreshDebounceMs: 0, activeMs: 0 }, () => undefined, () => undefined);
  const t0 = performance.now();
  reader.start();
  reader.wake();
  while (!BackgroundReader.isRead(doc)) await reader.waitFor(doc, Number.MAX_SAFE_INTEGER, newCancelToken());
  const ms = performance.now() - t0;
  await reader.dispose();
  return { tokens: doc.totalTokens, ms };
}

async function main() {
  const ts = path.join(ROOT, 'node_modules', 'typescript', 'lib', 'typescript.js');
  if (!fs.existsSync(ts)) { console.log('needs node_modules/typescript/lib/typescript.js (real code that does not repeat)'); return; }
  const code = fs.readFileSync(ts, 'utf8');
  const files: [string, string][] = [
    ['1 MB of TypeScript\'s compiler (lines)', code.slice(3 << 20, 4 << 20)],
    ['1 MB minified (one line)', minifiedOfSize(ROOT, 1 << 20)!],
  ];
  const ms = files.map(() => ({ library: [] as number[], own: [] as number[], tokens: 0 }));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < files.length; i++) {
      for (const useLibrary of r % 2 ? [false, true] : [true, false]) {
        const out = await readOnce(useLibrary, files[i][0], files[i][1]);
        ms[i][useLibrary ? 'library' : 'own'].push(out.ms);
        ms[i].tokens = out.tokens;
      }
    }
  }
  const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1];
  console.log(`reading with a model that costs nothing (the engine's own work), median of ${rounds} rounds`);
  console.log('| file | tokens | library tokenizer | own BPE | ratio |');
  console.log('|---|---:|---:|---:|---:|');
  files.forEach(([label], i) => {
    const a = median(ms[i].library), b = median(ms[i].own);
    const rate = (t: number) => `${t.toFixed(0)} ms (${Math.round(ms[i].tokens / t).toLocaleString('en-US')}k tokens/s)`;
    console.log(`| ${label} | ${ms[i].tokens.toLocaleString('en-US')} | ${rate(a)} | ${rate(b)} | ${(a / b).toFixed(1)}x |`);
  });
}

void main();
