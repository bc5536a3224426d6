import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { CONTRACT_DECODE_OUTPUTS, CONTRACT_INPUTS, CONTRACT_OUTPUTS, SCHEMA_VERSION, SPECIAL_TOKEN_TEXT, STATE_TENSOR_FIELDS } from '../../src/engine/contract';
import { loadManifest, validateManifest } from '../../src/engine/manifest';
import { ROOT, TINY } from './helpers';

describe('model contract', () => {
  const contract = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', 'contract.json'), 'utf8'));

  it('the engine\'s built-in contract equals models/contract.json', () => {
    assert.strictEqual(SCHEMA_VERSION, contract.schema_version);
    for (const [n, spec] of Object.entries(contract.inputs) as [string, { dtype: string; shape: string[] }][]) {
      assert.deepStrictEqual({ dtype: spec.dtype, shape: spec.shape }, (CONTRACT_INPUTS as any)[n], n);
    }
    assert.deepStrictEqual(Object.keys(CONTRACT_INPUTS), Object.keys(contract.inputs));
    for (const [n, spec] of Object.entries(contract.outputs) as [string, { dtype: string; shape: string[] }][]) {
      assert.deepStrictEqual({ dtype: spec.dtype, shape: spec.shape }, (CONTRACT_OUTPUTS as any)[n], n);
    }
    assert.deepStrictEqual(Object.keys(CONTRACT_OUTPUTS), Object.keys(contract.outputs));
    assert.deepStrictEqual([...CONTRACT_DECODE_OUTPUTS], contract.decode_outputs);
    assert.deepStrictEqual(SPECIAL_TOKEN_TEXT, contract.special_tokens);
    assert.deepStrictEqual([...STATE_TENSOR_FIELDS], contract.state_tensor_fields);
  });

  it('accepts the tiny models\' manifests', () => {
    for (const dir of TINY) {
      const m = loadManifest(dir);
      assert.ok(m.stateSize > 0 && m.vocabSize > 0);
      assert.strictEqual(m.stateTensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0), m.stateSize);
    }
  });

  it('rejects broken manifests with the file and the problem', () => {
    const good = JSON.parse(fs.readFileSync(path.join(TINY[0], 'manifest.json'), 'utf8'));
    const cases: [string, (m: any) => void, RegExp][] = [
      ['schema', (m) => { m.schema_version = 2; }, /schema_version/],
      ['state size', (m) => { m.state.size += 1; }, /state\.(bytes|tensors|size)/],
      ['offset', (m) => { m.state.tensors[1].offset += 1; }, /offset/],
      ['special', (m) => { delete m.special_tokens.fim_middle; }, /special_tokens\.fim_middle/],
      ['inputs', (m) => { m.inputs = { tokens: m.inputs.tokens }; }, /inputs/],
      ['dtype', (m) => { m.outputs.logits.dtype = 'float16'; }, /logits\.dtype/],
      ['vocab', (m) => { m.vocab_size = 0; }, /vocab_size/],
      ['importance', (m) => { m.importance.kind = 'attention'; }, /importance\.kind/],
    ];
    for (const [name, breakIt, re] of cases) {
      const m = JSON.parse(JSON.stringify(good));
      breakIt(m);
      assert.throws(() => validateManifest(m, '/models/x', '/models/x/manifest.json'), (e: Error) => {
        assert.match(e.message, /^\/models\/x\/manifest\.json: /, name);
        assert.match(e.message, re, name);
        return true;
      }, name);
    }
  });
});
