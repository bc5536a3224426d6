// Loads a model folder: manifest (validated), tokenizer (checked against the manifest) and the
// ONNX Runtime sessions. Errors name the file and the problem.
import * as crypto from 'crypto';
import * as fs from 'fs';
import { SPECIAL_TOKEN_ROLES, SPECIAL_TOKEN_TEXT } from './contract';
import { loadManifest, Manifest, ModelFolderError } from './manifest';
import { ModelRunner, RunnerOptions } from './modelRunner';
import { LineTokenizer } from './tokenizer';

export interface LoadedModel {
  manifest: Manifest;
  tokenizer: LineTokenizer;
  runner: ModelRunner;
}

export function loadTokenizer(m: Manifest): LineTokenizer {
  const file = m.tokenizerFile;
  if (!fs.existsSync(file)) throw new ModelFolderError(file, 'missing: the tokenizer (tokenizer.json) is not in the folder');
  const bytes = fs.readFileSync(file);
  if (m.tokenizerSha256) {
    const sha = crypto.createHash('sha256').update(bytes as unknown as Uint8Array).digest('hex');
    if (sha !== m.tokenizerSha256) {
      throw new ModelFolderError(file, `does not match the model: its sha256 is ${sha.slice(0, 12)}…, manifest.json expects ${m.tokenizerSha256.slice(0, 12)}… (the tokenizer of another model, or a truncated file)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new ModelFolderError(file, `not valid JSON (${(e as Error).message}); the file may be truncated`);
  }
  let tok: LineTokenizer;
  try {
    tok = new LineTokenizer(json, file);
  } catch (e) {
    if (e instanceof ModelFolderError) throw e;
    throw new ModelFolderError(file, `cannot be loaded (${(e as Error).message})`);
  }
  if (tok.vocabSize > m.vocabSize) throw new ModelFolderError(file, `has ${tok.vocabSize} ids but the model (manifest.json) has vocab_size ${m.vocabSize}`);
  for (const role of SPECIAL_TOKEN_ROLES) {
    const text = Buffer.from(tok.bytes[m.special[role]] ?? []).toString('utf8');
    if (text !== SPECIAL_TOKEN_TEXT[role]) {
      throw new ModelFolderError(m.manifestFile, `special_tokens.${role} = ${m.special[role]} is "${text}" in tokenizer.json, expected "${SPECIAL_TOKEN_TEXT[role]}"`);
    }
  }
  return tok;
}

export async function loadModel(dir: string, opts: RunnerOptions): Promise<LoadedModel> {
  const manifest = loadManifest(dir);
  const tokenizer = loadTokenizer(manifest);
  const runner = await ModelRunner.create(manifest, opts);
  return { manifest, tokenizer, runner };
}
