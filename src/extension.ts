// Flowstate: thin VS Code glue over the engine (src/engine). No model logic here.
import * as vscode from 'vscode';
import { CompletionProvider } from './features/completions';
import { CursorWarmup } from './features/cursorWarmup';
import { EngineService } from './features/engineService';
import { Overlay } from './features/overlay';
import { chooseModel, showMenu, StatusBar } from './features/statusBar';
import { SummaryFeature } from './features/summary';

/** What activate() returns: used by the tests and by other extensions that want the numbers. */
export interface FlowstateApi {
  engine: EngineService;
  completions: CompletionProvider;
  warmup: CursorWarmup;
  overlay: Overlay;
  summary: SummaryFeature;
  statusBar: StatusBar;
}

export function activate(context: vscode.ExtensionContext): FlowstateApi {
  const log = vscode.window.createOutputChannel('Flowstate', { log: true });
  context.subscriptions.push(log);
  log.info(`Flowstate ${context.extension.packageJSON.version} activating (extension host: Node ${process.versions.node}, ${process.platform}-${process.arch}, workspace ${vscode.workspace.isTrusted ? 'trusted' : 'restricted'})`);

  const engine = new EngineService(context, log);
  const completions = new CompletionProvider(engine);
  const warmup = new CursorWarmup(engine);
  const overlay = new Overlay(engine);
  const summary = new SummaryFeature(context, engine);
  const statusBar = new StatusBar(engine);
  context.subscriptions.push(engine, completions, warmup, overlay, summary, statusBar);

  const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }];
  context.subscriptions.push(vscode.languages.registerInlineCompletionItemProvider(selector, completions));

  const withEditor = (f: (ed: vscode.TextEditor) => unknown) => () => {
    const ed = vscode.window.activeTextEditor;
    if (!ed) { void vscode.window.showInformationMessage('Flowstate: open a file first.'); return; }
    return f(ed);
  };
  const cmd = (id: string, f: (...a: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));
  cmd('flowstate.toggleOverlay', withEditor((ed) => overlay.toggle(ed.document)));
  cmd('flowstate.hideOverlay', withEditor((ed) => overlay.set(ed.document, undefined)));
  cmd('flowstate.switchOverlayMode', withEditor((ed) => overlay.switchMode(ed.document)));
  cmd('flowstate.summarizeFile', async (uri?: vscode.Uri) => {
    const doc = uri instanceof vscode.Uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc) { void vscode.window.showInformationMessage('Flowstate: open a file to summarize.'); return; }
    engine.log.trace(`command: summarize ${doc.uri.toString()}`);
    return summary.summarize(doc);
  });
  cmd('flowstate.triggerCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'));
  cmd('flowstate.toggleCompletions', async () => {
    const c = vscode.workspace.getConfiguration('flowstate');
    const on = !c.get<boolean>('completions.enable', true);
    await c.update('completions.enable', on, vscode.ConfigurationTarget.Global);
    if (!on) await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
    void vscode.window.setStatusBarMessage(`Flowstate: inline completions ${on ? 'on' : 'off'}`, 2500);
  });
  cmd('flowstate.showMenu', () => showMenu(engine, overlay));
  cmd('flowstate.openLog', () => log.show());
  cmd('flowstate.chooseModel', () => chooseModel(context.extensionPath));
  cmd('flowstate.restartEngine', () => engine.restart('command'));

  void engine.start();
  return { engine, completions, warmup, overlay, summary, statusBar };
}

export function deactivate() {
  // Everything is in context.subscriptions; the engine is disposed with them.
}
