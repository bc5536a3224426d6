import * as assert from 'assert';
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
});
