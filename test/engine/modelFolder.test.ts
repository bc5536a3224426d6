// Bad model folders give errors naming the file and the problem; provider choice and fallback.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Engine } from '../../src/engine/engine';
import { loadModel } from '../../src/engine/modelFolder';
import { CUDA_PROVIDER_LIBS } from '../../src/engine/ortLoader';
import { copyModel, ROOT, tmpDir, TINY } from './helpers';

async function loadError(dir: string): Promise<Error> {
  try {
    const e = await Engine.create({ modelDir: dir, provider: 'cpu', backgroundReading: false });
    await e.dispose();
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${dir} loaded`);
}

describe('model folders', function () {
  this.timeout(30_000);

  it('a missing folder or file is named', async () => {
    assert.match((await loadError('/nonexistent/model')).message, /\/nonexistent\/model: model folder not found/);
    for (const f of ['manifest.json', 'model.onnx', 'tokenizer.json']) {
      const d = copyModel(TINY[0]);
      fs.rmSync(path.join(d, f));
      const err = await loadError(d);
      assert.ok(err.message.startsWith(path.join(d, f) + ': missing'), err.message);
    }
  });

  it('a truncated graph is reported as such', async () => {
    for (const keep of [10, 100_000]) {
      const d = copyModel(TINY[0]);
      const g = path.join(d, 'model.onnx');
      fs.truncateSync(g, keep);
      const err = await loadError(g.replace(/\/model\.onnx$/, ''));
      assert.ok(err.message.startsWith(g + ': '), err.message);
      assert.match(err.message, /truncated/);
    }
  });

  it('the float graph\'s weight file and its one-token form, when missing, are named', async () => {
    // tiny-flowformer: model.onnx and model-step.onnx read their weights from model.onnx.data
    const noData = copyModel(TINY[0]);
    fs.rmSync(path.join(noData, 'model.onnx.data'));
    const err = await loadError(noData);
    assert.ok(err.message.startsWith(path.join(noData, 'model.onnx') + ': '), err.message);
    assert.match(err.message, /weight file/);
    // the one-token float graph opens where the float graph reads (cpuGraph 'float', or beside a GPU)
    const noStep = copyModel(TINY[0]);
    fs.rmSync(path.join(noStep, 'model-step.onnx'));
    const stepErr = await loadModel(noStep, { provider: 'cpu', cpuGraph: 'float' }).then(() => new Error('loaded'), (e: Error) => e);
    assert.ok(stepErr.message.startsWith(path.join(noStep, 'model-step.onnx') + ': missing'), stepErr.message);
    assert.match(stepErr.message, /files\.graph_step/);
  });

  it('a manifest of another model is caught against the graph', async () => {
    const d = copyModel(TINY[0]);
    fs.copyFileSync(path.join(TINY[1], 'model.onnx'), path.join(d, 'model.onnx'));
    const err = await loadError(d);
    assert.ok(err.message.startsWith(path.join(d, 'model.onnx') + ': '), err.message);
    assert.match(err.message, /state/);
  });

  it('a tokenizer that does not belong to the model is caught', async () => {
    const d = copyModel(TINY[0]);
    const t = path.join(d, 'tokenizer.json');
    fs.writeFileSync(t, fs.readFileSync(t, 'utf8').replace('"<|fim_middle|>"', '"<|fim_MIDDLE|>"'));
    const err = await loadError(d);
    assert.ok(err.message.startsWith(t + ': '), err.message);
    assert.match(err.message, /sha256/);
    fs.writeFileSync(t, fs.readFileSync(t, 'utf8').slice(0, 1000));
    const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    delete m.tokenizer_sha256;
    fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    assert.match((await loadError(d)).message, /tokenizer\.json: not valid JSON .*truncated/);
  });

  it('a GPU run limit below max_chunk (or not a whole number) is named; without one it is max_chunk', async () => {
    for (const bad of [1, 65536.5, 'many']) {
      const d = copyModel(TINY[0]);
      const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, max_chunk_gpu: bad }));
      const err = await loadError(d);
      assert.ok(err.message.startsWith(path.join(d, 'manifest.json') + ': '), err.message);
      assert.match(err.message, /max_chunk_gpu/);
    }
    const d = copyModel(TINY[0]);
    const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    delete m.max_chunk_gpu;
    fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    const e = await Engine.create({ modelDir: d, provider: 'cpu', backgroundReading: false });
    try {
      assert.strictEqual(e.model.manifest.maxChunkGpu, m.max_chunk);
    } finally {
      await e.dispose();
    }
  });

  it('a manifest that is not JSON is named', async () => {
    const d = copyModel(TINY[0]);
    fs.writeFileSync(path.join(d, 'manifest.json'), '{"schema_version": 1,');
    assert.match((await loadError(d)).message, /manifest\.json: not valid JSON/);
  });
});

describe('execution provider', function () {
  this.timeout(30_000);
  const bindingDir = path.join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
  const hasCuda = CUDA_PROVIDER_LIBS.every((f) => fs.existsSync(path.join(bindingDir, f)));

  it('cpu: runs on the CPU with no note', async () => {
    const e = await Engine.create({ modelDir: TINY[0], provider: 'cpu', backgroundReading: false });
    const info = await e.info();
    assert.strictEqual(info.provider, 'cpu');
    assert.strictEqual(info.providerNote, undefined);
    await e.dispose();
  });

  for (const provider of ['auto', 'cuda'] as const) {
    it(`${provider} without the CUDA provider libraries falls back to the CPU and says why and what to do`, async function () {
      if (hasCuda) this.skip(); // this machine has them: nothing to fall back from
      const empty = tmpDir('cuda');
      for (const cudaLibDir of [undefined, empty]) {
        const e = await Engine.create({ modelDir: TINY[0], provider, cudaLibDir, backgroundReading: false });
        const info = await e.info();
        assert.strictEqual(info.provider, 'cpu');
        assert.match(info.providerNote ?? '', /libonnxruntime_providers_cuda\.so/);
        assert.match(info.providerNote ?? '', cudaLibDir ? new RegExp(`${empty} does not hold`) : /ships without them/);
        assert.match(info.providerNote ?? '', /CUDA library folder/);
        const r = await e.runner.run(Int32Array.of(1, 5, 6), new Float32Array(e.runner.manifest.stateSize));
        assert.strictEqual(r.surprisal.length, 3);
        await e.dispose();
      }
    });
  }
});
