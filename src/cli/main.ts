#!/usr/bin/env node
// The CLI entry point: `npm run cli -- [FILE] [options]` or `node out/src/cli/main.js`.
// Exit codes: 0 done, 1 the engine or the model failed, 2 a usage error.
import { parseArgs, USAGE, UsageError } from './args';
import { renderMain, renderScore } from './render';
import { runMain, runScore } from './run';

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.command === 'help') { process.stdout.write(USAGE); return 0; }
  const log = (m: string) => process.stderr.write(`${m}\n`);
  // a progress line while a long file is read, only where a person watches (not with --json)
  const live = !opts.json && process.stderr.isTTY;
  let lastShown = 0;
  const onProgress = live ? (done: number, total: number) => {
    const now = Date.now();
    if (now - lastShown < 200) return;
    lastShown = now;
    process.stderr.write(`\rreading… ${Math.min(100, Math.floor((100 * done) / Math.max(1, total)))}% (${done.toLocaleString('en-US')} tokens)\x1b[K`);
  } : undefined;
  if (opts.command === 'score') {
    const r = await runScore(opts, log);
    process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : renderScore(r, opts.provider) + '\n');
    return 0;
  }
  const r = await runMain(opts, log, onProgress);
  if (live) process.stderr.write('\r\x1b[K');
  process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + '\n' : renderMain(r, opts.color ?? !!process.stdout.isTTY, opts.width, opts.provider) + '\n');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: Error) => {
    if (e instanceof UsageError) {
      process.stderr.write(`flowstate: ${e.message}\n(flowstate --help for the options)\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`flowstate: ${e.message}\n`);
      process.exitCode = 1;
    }
  },
);
