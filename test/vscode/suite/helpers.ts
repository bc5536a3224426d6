// Helpers shared by the suites (bundled into each suite file).
import * as path from 'path';
import * as vscode from 'vscode';
import type { FlowstateApi } from '../../../src/extension';

export async function api(): Promise<FlowstateApi> {
  const ext = vscode.extensions.getExtension<FlowstateApi>('flowstate.flowstate');
  if (!ext) throw new Error('extension flowstate.flowstate not found');
  const a = ext.isActive ? ext.exports : await ext.activate();
  await a.engine.ready();
  return a;
}

export function wsFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder');
  return vscode.Uri.joinPath(folder.uri, name);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20000, everyMs = 10): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function openEditor(name: string, column = vscode.ViewColumn.One): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(wsFile(name));
  return vscode.window.showTextDocument(doc, { viewColumn: column, preview: false });
}

/** Reverts every dirty file (no save dialogs) and closes all editors. */
export async function closeAll() {
  for (const d of vscode.workspace.textDocuments) {
    if (d.isDirty && !d.isUntitled) {
      await vscode.window.showTextDocument(d, { preview: false });
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Reverts unsaved changes of a document (keeps the workspace copy pristine for later suites). */
export async function revert(ed: vscode.TextEditor) {
  await vscode.window.showTextDocument(ed.document, { viewColumn: ed.viewColumn });
  await vscode.commands.executeCommand('workbench.action.files.revert');
}

export function percentile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function basename(u: vscode.Uri) { return path.basename(u.fsPath); }

/** Lines for the report table, printed with a marker the harness collects. */
export function report(line: string) {
  const load = require('os').loadavg()[0].toFixed(1);
  console.log(`FLOWSTATE_MEASURE ${line} | load ${load} on ${require('os').cpus().length} cores`);
}
