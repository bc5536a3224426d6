// Which model folder runs when the user names none: one rule for the extension, the CLI and
// the benchmarks. A `models/default` pointer (a file holding a folder name, or a link to a
// folder) wins; then the trained models; then the tiny test models, so a checkout without the
// trained models still works.
import * as fs from 'fs';
import * as path from 'path';

/** Preferred first: the trained models, then the tiny test models. */
export const PREFERRED_MODELS = ['flowformer', 'deltanet', 'tiny-flowformer', 'tiny-deltanet'];

export const DEFAULT_POINTER = 'default';

function isModelFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json'));
}

/** The folder a `models/default` pointer names, when there is one and it holds a model. */
export function pointedModel(modelsDir: string): string | undefined {
  const p = path.join(modelsDir, DEFAULT_POINTER);
  let st: fs.Stats;
  try { st = fs.statSync(p); } catch { return undefined; }
  if (st.isDirectory()) return isModelFolder(p) ? fs.realpathSync(p) : undefined;
  const name = fs.readFileSync(p, 'utf8').split('\n')[0].trim();
  if (!name || name.includes('..')) return undefined;
  const dir = path.resolve(modelsDir, name);
  return isModelFolder(dir) ? dir : undefined;
}

/** Every model folder under modelsDir, the default first. */
export function modelChoices(modelsDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(modelsDir).filter((n) => n !== DEFAULT_POINTER && isModelFolder(path.join(modelsDir, n)));
  } catch {
    return [];
  }
  const rank = (n: string) => { const i = PREFERRED_MODELS.indexOf(n); return i < 0 ? PREFERRED_MODELS.length : i; };
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const dirs = names.map((n) => path.join(modelsDir, n));
  const pointed = pointedModel(modelsDir);
  if (pointed) return [pointed, ...dirs.filter((d) => fs.realpathSync(d) !== fs.realpathSync(pointed))];
  return dirs;
}

/** The default model folder under modelsDir, or undefined when there is none. */
export function defaultModelDir(modelsDir: string): string | undefined {
  return modelChoices(modelsDir)[0];
}
