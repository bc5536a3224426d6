import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, closeAll, openEditor, waitFor } from './helpers';

describe('activation and status bar', () => {
  it('activates on startup, the engine loads the model', async () => {
    const ext = vscode.extensions.getExtension('flowstate.flowstate');
    assert.ok(ext, 'extension flowstate.flowstate not found');
    const a = await api();
    assert.strictEqual(ext!.isActive, true);
    assert.strictEqual(a.engine.state, 'ready');
    assert.ok(a.engine.info, 'engine info');
    assert.ok(['cpu', 'cuda'].includes(a.engine.info!.provider));
  });

  it('registers its commands', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['flowstate.toggleOverlay', 'flowstate.summarizeFile', 'flowstate.triggerCompletion', 'flowstate.showMenu', 'flowstate.chooseModel', 'flowstate.openLog']) {
      assert.ok(cmds.includes(c), `command ${c}`);
    }
  });

  it('the status bar shows the provider and the model', async () => {
    const a = await api();
    await openEditor('small.ts');
    const item = a.statusBar.item;
    const prov = a.engine.info!.provider.toUpperCase();
    await waitFor('status bar text', () => item.text.includes(prov));
    assert.match(item.text, new RegExp(`Flowstate ${prov}`));
    const tip = item.tooltip as vscode.MarkdownString;
    assert.ok(tip.value.includes(a.engine.info!.modelName), tip.value);
    assert.ok(tip.value.includes(`Provider: **${prov}**`), tip.value);
    await closeAll();
  });

  it('the model setting (machine-scoped) applies in this remote extension host, and changing it restarts the engine', async () => {
    const a = await api();
    const cfg = () => vscode.workspace.getConfiguration('flowstate');
    const ed = await openEditor('small.ts');
    const configured = cfg().get<string>('modelPath');
    assert.ok(configured, 'the harness sets flowstate.modelPath (in the remote settings)');
    assert.strictEqual(a.engine.settings!.modelDir, configured, 'the engine runs the configured model');
    const other = path.join(path.dirname(configured!), path.basename(configured!) === 'tiny-deltanet' ? 'tiny-flowformer' : 'tiny-deltanet');
    const name = JSON.parse(fs.readFileSync(path.join(other, 'manifest.json'), 'utf8')).name;
    // what "Choose Model…" does: a Global update, which VS Code writes where machine settings apply
    await cfg().update('modelPath', other, vscode.ConfigurationTarget.Global);
    try {
      await waitFor(`the engine to run ${name}`, () => a.engine.state === 'ready' && a.engine.info?.modelName === name, 60000, 50);
      assert.strictEqual(cfg().inspect<string>('modelPath')!.globalValue, other);
    } finally {
      await cfg().update('modelPath', configured, vscode.ConfigurationTarget.Global);
    }
    await waitFor('the configured model again', () => a.engine.state === 'ready' && a.engine.settings?.modelDir === configured, 60000, 50);
    // the documents that were open before the restart are known to the new engine
    const doc = ed.document;
    assert.ok(a.engine.isTracked(doc), 'small.ts is tracked after the restart');
    const r = await a.engine.api!.read(doc.uri.toString());
    assert.strictEqual(r.readOffset, doc.getText().length);
    await closeAll();
  });
});
