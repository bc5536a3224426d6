// The default model rule shared by the extension, the CLI and the benchmarks.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { defaultModelDir, modelChoices } from '../../src/engine/defaultModel';
import { tmpDir } from './helpers';

function fakeModel(root: string, name: string): string {
  const d = path.join(root, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'manifest.json'), '{}');
  return d;
}

describe('default model', () => {
  it('prefers flowformer, then deltanet, then the tiny models; ignores folders without a manifest', () => {
    const root = tmpDir('models');
    assert.strictEqual(defaultModelDir(root), undefined);
    fakeModel(root, 'tiny-deltanet');
    fakeModel(root, 'tiny-flowformer');
    fakeModel(root, 'zzz-other');
    fs.mkdirSync(path.join(root, 'flowformer')); // no manifest: not a model
    assert.deepStrictEqual(modelChoices(root).map((d) => path.basename(d)), ['tiny-flowformer', 'tiny-deltanet', 'zzz-other']);
    fakeModel(root, 'deltanet');
    assert.strictEqual(path.basename(defaultModelDir(root)!), 'deltanet');
    fakeModel(root, 'flowformer');
    assert.deepStrictEqual(modelChoices(root).map((d) => path.basename(d)), ['flowformer', 'deltanet', 'tiny-flowformer', 'tiny-deltanet', 'zzz-other']);
    fs.rmSync(root, { recursive: true });
  });

  it('a models/default pointer (a file naming a folder, or a link) wins; a broken one is ignored', () => {
    const root = tmpDir('models');
    fakeModel(root, 'flowformer');
    fakeModel(root, 'deltanet');
    fs.writeFileSync(path.join(root, 'default'), 'deltanet\n');
    assert.deepStrictEqual(modelChoices(root).map((d) => path.basename(d)), ['deltanet', 'flowformer']);
    fs.writeFileSync(path.join(root, 'default'), 'missing\n');
    assert.strictEqual(path.basename(defaultModelDir(root)!), 'flowformer');
    fs.writeFileSync(path.join(root, 'default'), '../../etc\n');
    assert.strictEqual(path.basename(defaultModelDir(root)!), 'flowformer');
    fs.rmSync(path.join(root, 'default'));
    fs.symlinkSync(path.join(root, 'deltanet'), path.join(root, 'default'));
    assert.strictEqual(path.basename(defaultModelDir(root)!), 'deltanet');
    assert.strictEqual(modelChoices(root).length, 2, 'the link is not listed twice');
    fs.rmSync(root, { recursive: true });
  });
});
