// Loads onnxruntime-node. Its npm package ships without the CUDA provider libraries, and ONNX
// Runtime looks for them only next to its own libonnxruntime.so. When the user points a
// setting at a folder that has them, the engine builds a private copy of the binding folder
// with links to those libraries and loads that copy instead (once per process: a process
// can hold only one ONNX Runtime).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export type Ort = typeof import('onnxruntime-node');

export const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

export interface LoadedOrt {
  ort: Ort;
  /** Folder holding onnxruntime_binding.node and libonnxruntime.so of the loaded copy. */
  bindingDir: string;
  /** The CUDA provider libraries sit next to the loaded runtime. */
  cudaLibsPresent: boolean;
  /** Why the CUDA libraries are not usable, when they are not. */
  cudaMissingReason?: string;
}

let loaded: { key: string; value: LoadedOrt } | undefined;

function packageDir(): string {
  return path.dirname(require.resolve('onnxruntime-node/package.json'));
}

function bindingSubdir(): string {
  return path.join('bin', 'napi-v6', process.platform, process.arch);
}

function hasCudaLibs(dir: string): boolean {
  return CUDA_PROVIDER_LIBS.every((f) => fs.existsSync(path.join(dir, f)));
}

function linkOrCopy(src: string, dst: string): void {
  try { fs.linkSync(src, dst); } catch { fs.copyFileSync(src, dst); }
}

/** A copy of onnxruntime-node whose binding folder also holds (links to) the CUDA libraries. */
function privateCopyWithCuda(cudaLibDir: string): string {
  const src = packageDir();
  const version = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8')).version as string;
  const hash = crypto.createHash('sha256').update(`${src}\n${path.resolve(cudaLibDir)}`).digest('hex').slice(0, 12);
  const root = path.join(os.tmpdir(), `flowstate-ort-${version}-${hash}`);
  const pkg = path.join(root, 'node_modules', 'onnxruntime-node');
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) return pkg;
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(pkg, bindingSubdir()), { recursive: true });
  fs.copyFileSync(path.join(src, 'package.json'), path.join(pkg, 'package.json'));
  fs.cpSync(path.join(src, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  const from = path.join(src, bindingSubdir());
  for (const f of fs.readdirSync(from)) linkOrCopy(path.join(from, f), path.join(pkg, bindingSubdir(), f));
  for (const f of CUDA_PROVIDER_LIBS) fs.symlinkSync(path.resolve(cudaLibDir, f), path.join(pkg, bindingSubdir(), f));
  // onnxruntime-common resolves from here to the very same module the extension has
  const common = path.dirname(require.resolve('onnxruntime-common/package.json', { paths: [src] }));
  fs.symlinkSync(common, path.join(root, 'node_modules', 'onnxruntime-common'), 'dir');
  fs.writeFileSync(done, new Date().toISOString());
  return pkg;
}

function missingReason(cudaLibDir: string | undefined): string {
  const missing = cudaLibDir
    ? `${path.resolve(cudaLibDir)} does not hold ${CUDA_PROVIDER_LIBS.filter((f) => !fs.existsSync(path.join(cudaLibDir, f))).join(' and ')}`
    : `the CUDA provider libraries (${CUDA_PROVIDER_LIBS.join(', ')}) are not installed: the onnxruntime-node npm package ships without them`;
  return `${missing}. To use the GPU, set the CUDA library folder (flowstate.cudaLibraryPath / --cuda-lib-dir) to a folder with the ONNX Runtime 1.29.0 CUDA provider libraries (CUDA 13 build), with CUDA 13 and cuDNN 9 on the library path`;
}

/** The ONNX Runtime of this process (loaded on first use), and whether CUDA can be tried with it. */
export function loadOrt(cudaLibDir?: string, wantCuda = true): LoadedOrt {
  if (!loaded) {
    const defaultDir = path.join(packageDir(), bindingSubdir());
    let pkg: string | undefined;
    let why: string | undefined;
    if (wantCuda && !hasCudaLibs(defaultDir) && cudaLibDir && hasCudaLibs(cudaLibDir)) {
      try { pkg = privateCopyWithCuda(cudaLibDir); } catch (e) { why = `could not prepare a copy of onnxruntime-node next to the CUDA libraries (${(e as Error).message})`; }
    }
    loaded = {
      key: pkg ? path.resolve(cudaLibDir!) : '',
      value: pkg
        ? { ort: require(pkg) as Ort, bindingDir: path.join(pkg, bindingSubdir()), cudaLibsPresent: true }
        : { ort: require('onnxruntime-node') as Ort, bindingDir: defaultDir, cudaLibsPresent: hasCudaLibs(defaultDir), cudaMissingReason: why },
    };
  }
  const v = loaded.value;
  if (v.cudaLibsPresent || !wantCuda) return v;
  const other = cudaLibDir && hasCudaLibs(cudaLibDir)
    ? `ONNX Runtime was loaded in this process before the CUDA library folder ${cudaLibDir} was set; restart the engine`
    : undefined;
  return { ...v, cudaMissingReason: v.cudaMissingReason ?? other ?? missingReason(cudaLibDir) };
}
