// Command line of the CLI: flags to options, and the usage text. No engine here.
import type { ProviderChoice } from '../engine/api';

export type HeatMode = 'importance' | 'surprise';

export interface CommonOptions {
  /** Model folder; undefined: the default model (src/engine/defaultModel.ts). */
  model?: string;
  provider: ProviderChoice;
  cudaLibDir?: string;
  threads?: number;
  gpuRunTokens?: number;
  json: boolean;
  /** ANSI colours; undefined: when stdout is a terminal. */
  color?: boolean;
}

export interface MainOptions extends CommonOptions {
  command: 'main';
  /** undefined: the sample file that ships with the repo. */
  file?: string;
  /** 1-based line and column (UTF-16 code units, as VS Code counts); undefined: the end of the file. */
  line?: number;
  column?: number;
  maxTokens: number;
  timeBudgetMs: number;
  temperature: number;
  suffixLines: number;
  summaryLines: number;
  /** 1-based, inclusive; undefined: the lines before the completion point. */
  lines?: { from: number; to: number };
  mode: HeatMode;
  width: number;
}

export interface ScoreOptions extends CommonOptions {
  command: 'score';
  files: string[];
}

export type CliOptions = MainOptions | ScoreOptions | { command: 'help' };

export class UsageError extends Error {}

export const USAGE = `Flowstate: whole-file language model help on your machine.

Usage:
  flowstate [FILE] [options]        read FILE (default: samples/mypy_semanal.py), print the
                                    provider, reading speed, state size, a completion, an
                                    extractive summary and a heat map
  flowstate score FILE... [options] bits per byte of each file
  (from the repo: npm run cli -- [FILE] [options])

Options:
  --model DIR            model folder (default: models/default, else models/flowformer,
                         models/deltanet, models/tiny-flowformer)
  --provider P           auto | cuda | cpu (default auto)
  --cuda-lib-dir DIR     folder with the ONNX Runtime CUDA provider libraries
  --threads N            CPU threads (default: all cores)
  --gpu-run-tokens N     with CUDA, most tokens per model run (default 16384; more reads
                         faster and holds more GPU memory, up to the model's max_chunk_gpu)
  --line N --column N    where to complete, 1-based (default: the end of the file;
                         --line alone: the end of that line)
  --max-tokens N         most tokens in the completion (default 48)
  --time-budget MS       decoding time limit (default 10000)
  --temperature T        0 = greedy (default 0)
  --suffix-lines N       lines after the cursor given as fill-in-the-middle context (default 12)
  --summary-lines N      key lines in the summary (default 12)
  --lines A-B            heat map of lines A to B (default: the 30 lines up to the cursor)
  --mode M               heat map of importance | surprise (default importance)
  --width N              cut heat-map lines at N columns (default 160)
  --json                 one JSON object on stdout instead of text
  --color, --no-color    ANSI colours on or off (default: on when stdout is a terminal
                         and NO_COLOR is not set)
  -h, --help             this text
`;

function int(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs a whole number >= ${min}, got ${v === undefined ? 'nothing' : `"${v}"`}`);
  return n;
}

function num(flag: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isFinite(n) || n < min) throw new UsageError(`${flag} needs a number >= ${min}, got ${v === undefined ? 'nothing' : `"${v}"`}`);
  return n;
}

export function parseLines(v: string | undefined): { from: number; to: number } {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v ?? '');
  if (!m) throw new UsageError(`--lines needs A-B (1-based line numbers), got "${v ?? ''}"`);
  const from = Number(m[1]), to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to < from) throw new UsageError(`--lines ${v}: needs 1 <= A <= B`);
  return { from, to };
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOptions {
  const common: CommonOptions = { provider: 'auto', json: false, color: env.NO_COLOR ? false : undefined };
  const main: Omit<MainOptions, keyof CommonOptions | 'command'> = {
    maxTokens: 48, timeBudgetMs: 10_000, temperature: 0, suffixLines: 12, summaryLines: 12, mode: 'importance', width: 160,
  };
  const positional: string[] = [];
  let command: 'main' | 'score' = 'main';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (flag) {
      case '-h': case '--help': return { command: 'help' };
      case '--model': common.model = value(); break;
      case '--provider': {
        const p = value();
        if (p !== 'auto' && p !== 'cuda' && p !== 'cpu') throw new UsageError(`--provider is auto, cuda or cpu, got "${p}"`);
        common.provider = p;
        break;
      }
      case '--cuda-lib-dir': common.cudaLibDir = value(); break;
      case '--threads': common.threads = int(flag, value(), 1); break;
      case '--gpu-run-tokens': common.gpuRunTokens = int(flag, value(), 1); break;
      case '--json': common.json = true; break;
      case '--no-color': common.color = false; break;
      case '--color': common.color = true; break;
      case '--line': main.line = int(flag, value(), 1); break;
      case '--column': main.column = int(flag, value(), 1); break;
      case '--max-tokens': main.maxTokens = int(flag, value(), 1); break;
      case '--time-budget': main.timeBudgetMs = int(flag, value(), 1); break;
      case '--temperature': main.temperature = num(flag, value(), 0); break;
      case '--suffix-lines': main.suffixLines = int(flag, value(), 0); break;
      case '--summary-lines': main.summaryLines = int(flag, value(), 1); break;
      case '--lines': main.lines = parseLines(value()); break;
      case '--mode': {
        const m = value();
        if (m !== 'importance' && m !== 'surprise') throw new UsageError(`--mode is importance or surprise, got "${m}"`);
        main.mode = m;
        break;
      }
      case '--width': main.width = int(flag, value(), 20); break;
      default:
        if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
        if (positional.length === 0 && command === 'main' && a === 'score') command = 'score';
        else positional.push(a);
    }
  }
  if (command === 'score') {
    if (positional.length === 0) throw new UsageError('score needs at least one file');
    return { command, ...common, files: positional };
  }
  if (positional.length > 1) throw new UsageError(`one file at a time (got ${positional.length}); \`score\` takes several`);
  if (main.column !== undefined && main.line === undefined) throw new UsageError('--column needs --line');
  return { command, ...common, ...main, file: positional[0] };
}
