// Settings, read in one place.
import * as path from 'path';
import * as vscode from 'vscode';
import type { ProviderChoice } from '../engine/api';
import { modelChoices } from '../engine/defaultModel';

export type OverlayMode = 'importance' | 'surprise';

export interface EngineSettings {
  modelDir: string;
  modelIsDefault: boolean;
  provider: ProviderChoice;
  cudaLibDir?: string;
  memoryBudgetBytes: number;
  threads?: number;
  gpuRunTokens?: number;
}

export interface CompletionSettings {
  enable: boolean;
  maxTokens: number;
  temperature: number;
  debounceMs: number;
  timeBudgetMs: number;
  suffixLines: number;
}

function cfg(scope?: vscode.ConfigurationScope) {
  return vscode.workspace.getConfiguration('flowstate', scope);
}

/** Bundled models, the default first (the rule lives in the engine: the CLI uses it too). */
export function bundledModels(extensionPath: string): string[] {
  return modelChoices(path.join(extensionPath, 'models'));
}

function expandHome(p: string): string {
  if (p.startsWith('~/')) return path.join(process.env.HOME || '', p.slice(2));
  return p;
}

export function engineSettings(extensionPath: string): EngineSettings {
  const c = cfg();
  const configured = expandHome((c.get<string>('modelPath') || '').trim());
  const bundled = bundledModels(extensionPath);
  const modelDir = configured || bundled[0] || path.join(extensionPath, 'models', 'flowformer');
  const cuda = expandHome((c.get<string>('cudaLibraryPath') || '').trim());
  const threads = c.get<number>('threads') || 0;
  const gpuRunTokens = c.get<number>('gpuRunTokens') || 0;
  return {
    modelDir,
    modelIsDefault: !configured,
    provider: (c.get<ProviderChoice>('provider') || 'auto'),
    cudaLibDir: cuda || undefined,
    memoryBudgetBytes: Math.max(16, c.get<number>('memoryBudgetMB') || 256) * 1024 * 1024,
    threads: threads > 0 ? threads : undefined,
    gpuRunTokens: gpuRunTokens > 0 ? gpuRunTokens : undefined,
  };
}

export function completionSettings(doc?: vscode.TextDocument): CompletionSettings {
  const c = cfg(doc);
  let enable = c.get<boolean>('completions.enable', true);
  if (enable && doc) {
    const langs = c.get<Record<string, boolean>>('completions.languages') || {};
    const v = langs[doc.languageId];
    enable = v !== undefined ? !!v : langs['*'] !== false;
  }
  return {
    enable,
    maxTokens: c.get<number>('completions.maxTokens', 48),
    temperature: c.get<number>('completions.temperature', 0),
    debounceMs: c.get<number>('completions.debounceMs', 30),
    timeBudgetMs: c.get<number>('completions.timeBudgetMs', 100),
    suffixLines: c.get<number>('completions.suffixLines', 4),
  };
}

export function overlayDefaultMode(): OverlayMode {
  return cfg().get<OverlayMode>('overlay.defaultMode', 'importance') === 'surprise' ? 'surprise' : 'importance';
}

export function overlayShowLegend(): boolean {
  return cfg().get<boolean>('overlay.showLegend', true);
}

export function summaryMaxLines(): number {
  return cfg().get<number>('summary.maxLines', 24);
}

/** Documents the engine reads: real files and untitled buffers, not output panes or git views. */
export function isTrackedDocument(doc: vscode.TextDocument): boolean {
  return ['file', 'untitled', 'vscode-remote', 'vscode-userdata'].includes(doc.uri.scheme);
}
