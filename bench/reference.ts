// The reference the model's prefill is compared with: a plain chain of fp32 matmuls with the
// model's parameter count, generated at bench time by bench/matmulChain.py (python3 + onnx)
// into a temporary folder and run through the same onnxruntime-node as the model.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { InferenceSession } from 'onnxruntime-node';
import type { LoadedOrt } from '../src/engine/ortLoader';

export interface ChainInfo { width: number; layers: number; parameters: number }

function python(): string {
  if (process.env.FLOWSTATE_PYTHON) return process.env.FLOWSTATE_PYTHON;
  // Debian's python3 has python3-onnx here; the GPU machine's python3 has onnx too
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export class MatmulChain {
  private constructor(readonly info: ChainInfo, private readonly loaded: LoadedOrt, private readonly session: InferenceSession, private readonly dir: string) {}

  static async create(loaded: LoadedOrt, parameters: number, provider: 'cpu' | 'cuda', threads: number): Promise<MatmulChain> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowstate-bench-'));
    const file = path.join(dir, 'matmul_chain.onnx');
    const script = path.join(__dirname, '..', '..', 'bench', 'matmulChain.py');
    let info: ChainInfo;
    try {
      info = JSON.parse(execFileSync(python(), [script, file, String(parameters)], { encoding: 'utf8' }).trim().split('\n').pop()!);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`could not build the reference graph with ${python()} ${script} (needs python3 with onnx and numpy; FLOWSTATE_PYTHON picks the interpreter): ${(e as Error).message.split('\n')[0]}`);
    }
    const session = await loaded.ort.InferenceSession.create(file, {
      executionProviders: [provider], intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3,
    });
    return new MatmulChain(info, loaded, session, dir);
  }

  /** One run over T rows (tokens). */
  async run(x: Float32Array, T: number): Promise<void> {
    await this.session.run({ x: new this.loaded.ort.Tensor('float32', x.subarray(0, T * this.info.width), [T, this.info.width]) });
  }

  input(maxT: number): Float32Array {
    const x = new Float32Array(maxT * this.info.width);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
    return x;
  }

  async dispose(): Promise<void> {
    await this.session.release();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
