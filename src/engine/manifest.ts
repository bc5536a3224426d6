// Reads and validates a model folder's manifest.json against the contract. Every error names
// the file and the problem, so a user pointing the setting at the wrong folder knows why.
import * as fs from 'fs';
import * as path from 'path';
import {
  CONTRACT_INPUTS, CONTRACT_OUTPUTS, FILES, IMPORTANCE_KINDS, SCHEMA_VERSION, SPECIAL_TOKEN_ROLES, SpecialRole,
} from './contract';

export interface StateTensor { name: string; offset: number; shape: number[]; dtype: string; init: number }

export interface Manifest {
  name: string;
  architecture: string;
  parameters: number;
  vocabSize: number;
  /** Most tokens one graph run may take (0: any). */
  maxChunk: number;
  /** Most tokens one run of the float graph may take on a GPU (manifest max_chunk_gpu; default max_chunk). */
  maxChunkGpu: number;
  stateSize: number;
  stateTensors: StateTensor[];
  special: Record<SpecialRole, number>;
  importanceKind: (typeof IMPORTANCE_KINDS)[number];
  tokenizerSha256?: string;
  config: Record<string, unknown>;
  graphFile: string;
  /**
   * The graph for the CPU provider (files.graph_cpu, optional): the same contract with its
   * weight MatMuls quantized (model/quantize.py); the float graph stays for CUDA and parity.
   */
  graphCpuFile?: string;
  /**
   * The CPU graph's long-chunk form (files.graph_cpu_long, optional), for chunks of at least
   * graphCpuLongMinTokens tokens; graph_cpu then takes the shorter ones (decoding). The two
   * share one weight file (model/quantize.py).
   */
  graphCpuLongFile?: string;
  graphCpuLongMinTokens?: number;
  /**
   * The CPU graph's one-token form (files.graph_cpu_step, optional; model/export.py export_step),
   * over the same weight file: every single token on a CPU-only run, and beside a GPU a
   * completion's decoding steps.
   */
  graphCpuStepFile?: string;
  /**
   * graph_cpu_step without the scores (files.graph_cpu_decode, optional; model/export.py
   * export_decode): outputs logits and state_out only, for a completion's decoding steps.
   */
  graphCpuDecodeFile?: string;
  /**
   * The float graph's one-token form (files.graph_step, optional; model/export.py
   * write_float_step), over the float graph's weight file: beside a GPU (or with the float graph
   * asked for) the CPU reads a document's single tokens with it.
   */
  graphStepFile?: string;
  tokenizerFile: string;
  manifestFile: string;
}

export class ModelFolderError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ModelFolderError';
  }
}

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

export function loadManifest(dir: string): Manifest {
  const file = path.join(dir, FILES.manifest);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFolderError(dir, 'model folder not found');
  if (!fs.existsSync(file)) throw new ModelFolderError(file, 'missing: a model folder holds manifest.json, model.onnx and tokenizer.json');
  let m: Record<string, any>;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModelFolderError(file, `not valid JSON (${(e as Error).message})`);
  }
  return validateManifest(m, dir, file);
}

export function validateManifest(m: Record<string, any>, dir: string, file: string): Manifest {
  const fail = (problem: string): never => { throw new ModelFolderError(file, problem); };
  if (!m || typeof m !== 'object') fail('not a JSON object');
  if (m.schema_version !== SCHEMA_VERSION) fail(`schema_version is ${JSON.stringify(m.schema_version)}, this engine reads ${SCHEMA_VERSION}`);
  for (const k of ['name', 'architecture']) if (typeof m[k] !== 'string' || !m[k]) fail(`"${k}" must be a non-empty string`);
  if (!isInt(m.vocab_size) || m.vocab_size <= 0) fail(`"vocab_size" must be a positive integer, got ${JSON.stringify(m.vocab_size)}`);
  if (!isInt(m.max_chunk) || m.max_chunk < 0) fail(`"max_chunk" must be an integer >= 0, got ${JSON.stringify(m.max_chunk)}`);
  const gpuMax = m.max_chunk_gpu ?? m.max_chunk;
  if (!isInt(gpuMax) || (m.max_chunk > 0 ? gpuMax < m.max_chunk : gpuMax !== 0)) fail(`"max_chunk_gpu" must be an integer >= max_chunk (0 with max_chunk 0), got ${JSON.stringify(m.max_chunk_gpu)}`);
  for (const [group, want] of [['inputs', CONTRACT_INPUTS], ['outputs', CONTRACT_OUTPUTS]] as const) {
    const got = m[group];
    if (!got || typeof got !== 'object') fail(`"${group}" is missing`);
    const names = Object.keys(got);
    if (names.join(',') !== Object.keys(want).join(',')) fail(`"${group}" are [${names.join(', ')}], the contract says [${Object.keys(want).join(', ')}]`);
    for (const [n, spec] of Object.entries(want)) {
      if (got[n].dtype !== spec.dtype) fail(`${group}.${n}.dtype is ${got[n].dtype}, the contract says ${spec.dtype}`);
    }
  }
  const st = m.state;
  if (!st || typeof st !== 'object') fail('"state" is missing');
  if (!isInt(st.size) || st.size <= 0) fail(`state.size must be a positive integer, got ${JSON.stringify(st.size)}`);
  if (st.bytes !== undefined && st.bytes !== st.size * 4) fail(`state.bytes is ${st.bytes}, expected 4 x state.size = ${st.size * 4}`);
  if (!Array.isArray(st.tensors) || st.tensors.length === 0) fail('state.tensors must be a non-empty list');
  let off = 0;
  for (const [i, t] of (st.tensors as any[]).entries()) {
    const where = `state.tensors[${i}]${t && t.name ? ` (${t.name})` : ''}`;
    if (!t || typeof t.name !== 'string' || !isInt(t.offset) || !Array.isArray(t.shape)) fail(`${where} needs name, offset and shape`);
    if (t.dtype !== 'float32') fail(`${where}.dtype is ${t.dtype}; the packed state is float32`);
    if (t.offset !== off) fail(`${where}.offset is ${t.offset}, expected ${off} (tensors are packed in order)`);
    if (!t.shape.every((d: unknown) => isInt(d) && (d as number) > 0)) fail(`${where}.shape must list positive integers`);
    off += t.shape.reduce((a: number, b: number) => a * b, 1);
  }
  if (off !== st.size) fail(`state.tensors add up to ${off} floats but state.size is ${st.size}`);
  if (st.position_tensor !== undefined && !st.tensors.some((t: any) => t.name === st.position_tensor)) fail(`state.position_tensor "${st.position_tensor}" is not one of state.tensors`);
  const sp = m.special_tokens;
  if (!sp || typeof sp !== 'object') fail('"special_tokens" is missing');
  const special = {} as Record<SpecialRole, number>;
  for (const role of SPECIAL_TOKEN_ROLES) {
    if (!isInt(sp[role]) || sp[role] < 0 || sp[role] >= m.vocab_size) fail(`special_tokens.${role} must be a token id below vocab_size, got ${JSON.stringify(sp[role])}`);
    special[role] = sp[role];
  }
  const kind = m.importance?.kind ?? 'none';
  if (!(IMPORTANCE_KINDS as readonly string[]).includes(kind)) fail(`importance.kind is "${kind}", expected one of ${IMPORTANCE_KINDS.join(', ')}`);
  const files = m.files ?? {};
  const isFileName = (v: unknown) => typeof v === 'string' && !!v && !/[\\/]/.test(v) && v !== '..';
  const gc = files.graph_cpu;
  if (gc !== undefined && !isFileName(gc)) fail(`files.graph_cpu must be a file name in the model folder, got ${JSON.stringify(gc)}`);
  // the long and one-token forms share graph_cpu's weight file
  for (const key of ['graph_cpu_long', 'graph_cpu_step', 'graph_cpu_decode']) {
    const v = files[key];
    if (v !== undefined && (!isFileName(v) || gc === undefined)) fail(`files.${key} must be a file name in the model folder, beside files.graph_cpu; got ${JSON.stringify(v)}`);
  }
  const gf = files.graph_step;
  if (gf !== undefined && !isFileName(gf)) fail(`files.graph_step must be a file name in the model folder, got ${JSON.stringify(gf)}`);
  const gl = files.graph_cpu_long;
  const gs = files.graph_cpu_step;
  const gd = files.graph_cpu_decode;
  const glMin = files.graph_cpu_long_min_tokens;
  if (gl !== undefined && !(isInt(glMin) && glMin >= 2)) fail(`files.graph_cpu_long_min_tokens must be an integer >= 2 with files.graph_cpu_long, got ${JSON.stringify(glMin)}`);
  return {
    name: m.name,
    architecture: m.architecture,
    parameters: isInt(m.parameters) ? m.parameters : 0,
    vocabSize: m.vocab_size,
    maxChunk: m.max_chunk,
    maxChunkGpu: gpuMax,
    stateSize: st.size,
    stateTensors: st.tensors,
    special,
    importanceKind: kind,
    tokenizerSha256: typeof m.tokenizer_sha256 === 'string' ? m.tokenizer_sha256 : undefined,
    config: m.config && typeof m.config === 'object' ? m.config : {},
    graphFile: path.join(dir, typeof files.graph === 'string' ? files.graph : FILES.graph),
    graphCpuFile: typeof files.graph_cpu === 'string' ? path.join(dir, files.graph_cpu) : undefined,
    graphCpuLongFile: typeof gl === 'string' ? path.join(dir, gl) : undefined,
    graphCpuLongMinTokens: typeof gl === 'string' ? glMin : undefined,
    graphCpuStepFile: typeof gs === 'string' ? path.join(dir, gs) : undefined,
    graphCpuDecodeFile: typeof gd === 'string' ? path.join(dir, gd) : undefined,
    graphStepFile: typeof gf === 'string' ? path.join(dir, gf) : undefined,
    tokenizerFile: path.join(dir, typeof files.tokenizer === 'string' ? files.tokenizer : FILES.tokenizer),
    manifestFile: file,
  };
}
