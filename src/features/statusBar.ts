// Status bar: model, provider and reading progress of the active file; a click opens the menu.
import * as path from 'path';
import * as vscode from 'vscode';
import { bundledModels, completionSettings } from './config';
import { EngineService } from './engineService';
import { Overlay } from './overlay';

export class StatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private lastRender = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly engine: EngineService) {
    this.item = vscode.window.createStatusBarItem('flowstate.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Flowstate';
    this.item.command = 'flowstate.showMenu';
    this.disposables.push(
      this.item,
      engine.onDidChangeState(() => this.render()),
      engine.onProgress((p) => {
        if (p.uri === vscode.window.activeTextEditor?.document.uri.toString()) this.renderSoon();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('flowstate.completions')) this.render(); }),
    );
    this.render();
    this.item.show();
  }

  private renderSoon() {
    const wait = 200 - (Date.now() - this.lastRender);
    if (wait <= 0) return this.render();
    if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; this.render(); }, wait);
  }

  render() {
    this.lastRender = Date.now();
    const e = this.engine;
    const doc = vscode.window.activeTextEditor?.document;
    const completionsOn = completionSettings(doc).enable;
    const md = new vscode.MarkdownString('', true);
    md.isTrusted = { enabledCommands: ['flowstate.openLog', 'flowstate.chooseModel', 'flowstate.toggleCompletions'] };
    this.item.backgroundColor = undefined;
    if (e.state === 'starting' || e.state === 'stopped') {
      this.item.text = '$(loading~spin) Flowstate';
      md.appendMarkdown('**Flowstate**: loading the model…');
    } else if (e.state === 'failed') {
      this.item.text = '$(error) Flowstate';
      this.item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
      md.appendMarkdown(`**Flowstate**: the model could not load.\n\n${e.error ?? ''}\n\n[Choose model](command:flowstate.chooseModel) · [Open log](command:flowstate.openLog)`);
    } else {
      const info = e.info!;
      const prov = info.provider.toUpperCase();
      let reading = '';
      const p = doc ? e.progressOf(doc.uri) : undefined;
      if (p && p.length > 0 && p.readOffset < p.length) reading = ` $(sync~spin) ${Math.floor((100 * p.readOffset) / p.length)}%`;
      this.item.text = `${completionsOn ? '$(sparkle)' : '$(circle-slash)'} Flowstate ${prov}${reading}`;
      md.appendMarkdown(`**Flowstate** · ${info.modelName} (${info.architecture}, ${(info.parameters / 1e6).toFixed(2)} M parameters)\n\n`);
      md.appendMarkdown(`Provider: **${prov}**${info.providerNote ? ` — ${info.providerNote}` : ''}\n\n`);
      if (p && p.length > 0) {
        md.appendMarkdown(`This file: read ${Math.floor((100 * p.readOffset) / p.length)}% (${p.tokensRead.toLocaleString()} of ~${p.tokensTotal.toLocaleString()} tokens)\n\n`);
      }
      md.appendMarkdown(`Completions: ${completionsOn ? 'on' : 'off'} · [toggle](command:flowstate.toggleCompletions) · [log](command:flowstate.openLog)`);
    }
    this.item.tooltip = md;
  }

  dispose() {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

/** The status bar's menu. */
export async function showMenu(engine: EngineService, overlay: Overlay) {
  const ed = vscode.window.activeTextEditor;
  const completionsOn = completionSettings(ed?.document).enable;
  const mode = ed ? overlay.modeOf(ed.document.uri) : undefined;
  type Item = vscode.QuickPickItem & { run?: () => unknown };
  const items: Item[] = [
    { label: `$(${completionsOn ? 'check' : 'circle-slash'}) Inline completions: ${completionsOn ? 'on' : 'off'}`, description: 'toggle',
      run: () => vscode.commands.executeCommand('flowstate.toggleCompletions') },
  ];
  if (ed) {
    items.push(
      { label: `$(eye) Attention overlay: ${mode ?? 'off'}`, description: mode ? 'turn off' : 'turn on', run: () => overlay.toggle(ed.document) },
      { label: `$(arrow-swap) Overlay mode: ${mode === 'surprise' ? 'surprise → importance' : 'importance → surprise'}`,
        run: () => overlay.switchMode(ed.document) },
      { label: '$(list-selection) Summarize this file', run: () => vscode.commands.executeCommand('flowstate.summarizeFile') },
    );
  }
  items.push(
    { label: '', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(output) Open log', run: () => engine.log.show() },
    { label: '$(folder-opened) Choose model…', description: engine.info ? `now: ${engine.info.modelName}` : undefined,
      run: () => vscode.commands.executeCommand('flowstate.chooseModel') },
    { label: '$(debug-restart) Restart engine', run: () => engine.restart('menu') },
  );
  const pick = await vscode.window.showQuickPick(items, { title: 'Flowstate', placeHolder: engine.info ? `${engine.info.modelName} on ${engine.info.provider.toUpperCase()}` : engine.state });
  await pick?.run?.();
}

/** Choose a bundled model or browse for a model folder; stored in the user's settings. */
export async function chooseModel(extensionPath: string) {
  type Item = vscode.QuickPickItem & { dir?: string; browse?: boolean; reset?: boolean };
  const current = vscode.workspace.getConfiguration('flowstate').get<string>('modelPath') || '';
  const items: Item[] = bundledModels(extensionPath).map((d) => ({ label: path.basename(d), description: 'bundled', detail: d, dir: d }));
  items.push({ label: '$(folder) Browse for a model folder…', browse: true });
  if (current) items.push({ label: '$(discard) Use the default bundled model', reset: true });
  const pick = await vscode.window.showQuickPick(items, { title: 'Flowstate: choose model', placeHolder: current ? `now: ${current}` : 'now: the default bundled model' });
  if (!pick) return;
  let dir: string | undefined = pick.dir;
  if (pick.browse) {
    const r = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, openLabel: 'Use this model', title: 'Folder with manifest.json, model.onnx and tokenizer.json' });
    dir = r?.[0]?.fsPath;
    if (!dir) return;
  }
  await vscode.workspace.getConfiguration('flowstate').update('modelPath', pick.reset ? undefined : dir, vscode.ConfigurationTarget.Global);
}
