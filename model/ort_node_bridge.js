// ONNX Runtime runs (onnxruntime-node: the engine's runtime) and tokenisation
// (@huggingface/tokenizers: the engine's tokenizer) served to a Python process, one JSON object
// per line on stdin and stdout, so that verify_onnx.py checks a graph against PyTorch where
// Python onnxruntime is not installed (this machine, CI). Arrays travel as base64 of their
// little-endian bytes. Started by ort_node.py; resolves its packages from the repo's node_modules.
//   {"op": "open", "graph": PATH}                      -> {"inputs": [...], "outputs": [...]}
//   {"op": "tokenize", "tokenizer": PATH, "text": S}  -> {"ids": [...]}
//   {"op": "run", "feeds": {NAME: {"dtype", "shape", "b64"}}} -> {"outputs": [{"name", "dtype", "shape", "b64"}]}
'use strict';
const path = require('path');
const readline = require('readline');

const root = path.resolve(__dirname, '..');
const ort = require(require.resolve('onnxruntime-node', { paths: [root] }));
const { Tokenizer } = require(require.resolve('@huggingface/tokenizers', { paths: [root] }));

const ARRAYS = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array };
let session;

function toTensor(f) {
  const T = ARRAYS[f.dtype];
  if (!T) throw new Error(`unsupported dtype ${f.dtype}`);
  const buf = Buffer.from(f.b64, 'base64');
  const data = new T(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  return new ort.Tensor(f.dtype, data, f.shape);
}

function fromTensor(name, t) {
  const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dtype: t.type, shape: t.dims, b64: bytes.toString('base64') };
}

async function handle(msg) {
  if (msg.op === 'open') {
    // one thread and no graph rewrites beyond ONNX Runtime's defaults, as the engine's CPU sessions
    session = await ort.InferenceSession.create(msg.graph, { intraOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    return { inputs: session.inputNames, outputs: session.outputNames };
  }
  if (msg.op === 'tokenize') {
    const tok = new Tokenizer(JSON.parse(require('fs').readFileSync(msg.tokenizer, 'utf8')), {});
    return { ids: Array.from(tok.encode(msg.text, { add_special_tokens: false }).ids) };
  }
  if (msg.op === 'run') {
    if (!session) throw new Error('run before open');
    const feeds = {};
    for (const [name, f] of Object.entries(msg.feeds)) feeds[name] = toTensor(f);
    const out = await session.run(feeds);
    return { outputs: session.outputNames.map((n) => fromTensor(n, out[n])) };
  }
  throw new Error(`unknown op ${msg.op}`);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
let queue = Promise.resolve();
rl.on('line', (line) => {
  queue = queue.then(async () => {
    let reply;
    try {
      reply = await handle(JSON.parse(line));
    } catch (e) {
      reply = { error: String(e && e.message ? e.message : e) };
    }
    process.stdout.write(JSON.stringify(reply) + '\n');
  });
});
