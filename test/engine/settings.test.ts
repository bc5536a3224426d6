// The extension's settings as package.json declares them: those that point at files or choose
// hardware are machine-scoped, so a workspace's .vscode/settings.json cannot set them; every
// setting the features read is declared (config.ts reads them by name).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from './helpers';

const MACHINE = ['modelPath', 'provider', 'cudaLibraryPath', 'memoryBudgetMB', 'threads', 'gpuRunTokens'];

describe('settings (package.json)', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const configs = [pkg.contributes.configuration].flat();
  const props: Record<string, { scope?: string; default?: unknown }> = Object.assign({}, ...configs.map((c: { properties: object }) => c.properties));

  it('settings that point at files or choose hardware are machine-scoped', () => {
    for (const k of MACHINE) {
      assert.ok(props[`flowstate.${k}`], `flowstate.${k} is declared`);
      assert.strictEqual(props[`flowstate.${k}`].scope, 'machine', `flowstate.${k}`);
    }
    for (const [k, v] of Object.entries(props)) if (/path|provider/i.test(k)) assert.strictEqual(v.scope, 'machine', k);
  });

  it('every setting the features read is declared', () => {
    const src = fs.readdirSync(path.join(ROOT, 'src', 'features')).filter((f) => f.endsWith('.ts'))
      .map((f) => fs.readFileSync(path.join(ROOT, 'src', 'features', f), 'utf8')).join('\n');
    const read = [...src.matchAll(/\.get<[^>]+>\('([\w.]+)'/g)].map((m) => m[1]);
    assert.ok(read.length >= 6, `found ${read.length} reads`);
    for (const k of read) assert.ok(props[`flowstate.${k}`], `flowstate.${k} is read in src/features but not declared`);
  });
});
