// Sends each run to one of its two sessions (sessionChoice.ts) by how fast each has been for runs
// like it (FasterOfTwo, one per run class). Apart from the sessions themselves, so that the
// routing of a whole reading sequence beside a GPU is tested without one (test/engine/routing.test.ts).
import { FasterOfTwo } from './fasterOfTwo';
import { runClass, RunShape, sessionChoices, SessionRole } from './sessionChoice';

/**
 * Trying the other session of a run (FasterOfTwo) stops when it would cost more than this and
 * 4x the usual session's time: one such trial, a 65,536-token run on the CPU beside the H200,
 * took seconds.
 */
export const TRIAL_LIMIT_MS = 200;
/**
 * A session never measured is first tried on runs of at most this many tokens (beside the H200
 * the float graph on the host's CPU threads: ~100-200 ms); its cost per token then seeds the
 * longer run classes.
 */
export const TRIAL_LIMIT_TOKENS = 4096;
/**
 * Trials take at most this share of the time of all runs routed, plus TRIAL_ALLOWANCE_MS: a
 * choice k times slower is tried k times less often (FasterOfTwo), but each run length has its
 * own chooser, and reading a file beside the GPU gives each only a few runs, so without a bound
 * the trials of several lengths add up (a 3,000-token CPU trial costs the time the GPU takes for
 * ~100,000 tokens).
 */
export const TRIAL_SHARE = 0.05;
/** Time for trials before any run has been timed: the first measurements of each session. */
export const TRIAL_ALLOWANCE_MS = 150;

export interface Route {
  role: SessionRole;
  /** 0: the run's usual session, 1: its other one (sessionChoices). */
  choice: 0 | 1;
  /** The run goes to the session not believed faster: a trial, whose time says nothing about the next run's. */
  trial: boolean;
  /** Measures the two sessions' speed for runs like this one (none: only one session). */
  chooser?: FasterOfTwo;
}

export class RunRouter {
  private readonly choosers = new Map<string, FasterOfTwo>();
  /** Wall time of all runs routed, and of those that were trials. */
  private allMs = 0;
  private trialMs = 0;

  /** @param distinct whether two roles have different sessions (a role without a graph of its own shares another's) */
  constructor(private readonly distinct: (a: SessionRole, b: SessionRole) => boolean) {}

  route(shape: RunShape): Route {
    const roles = sessionChoices(shape);
    if (!this.distinct(roles[0], roles[1])) return { role: roles[0], choice: 0, trial: false };
    const chooser = this.chooserFor(shape);
    const best = chooser.best;
    const budget = TRIAL_ALLOWANCE_MS + TRIAL_SHARE * this.allMs - this.trialMs;
    const choice = chooser.pick(shape.tokens, TRIAL_LIMIT_MS, TRIAL_LIMIT_TOKENS, budget);
    return { role: roles[choice], choice, trial: choice !== best, chooser };
  }

  /**
   * A routed run took `ms` for `tokens`. `measured`: false for a session's first run, which
   * allocates and prepares its kernels (beside the H200 the int8 step graph's first decoding
   * steps took 4.7, 4.1, 9.0 ms, then 2.2): not a measure of its speed, and while a chooser has
   * only one or two measurements of a session, one slow one can keep it on the other session
   * for dozens of runs.
   */
  record(route: Route, ms: number, tokens: number, measured = true): void {
    this.allMs += ms;
    if (route.trial) this.trialMs += ms;
    if (route.chooser && measured) route.chooser.record(route.choice, ms, tokens);
  }

  private chooserFor(shape: RunShape): FasterOfTwo {
    const { kind, size } = runClass(shape);
    const key = `${kind} ${size}`;
    let c = this.choosers.get(key);
    if (!c) {
      // Decoding steps only have a choice with the one-token graph also open on several threads
      // (sessionChoice.ts): close, and both cheap to try, so they look as often as other runs.
      c = new FasterOfTwo(16, 5);
      this.choosers.set(key, c);
    }
    // a session this run length has not measured takes the cost per token of the nearest length
    // that has, so a long run is not tried on a session known to be far slower per token, and
    // a session found faster on shorter runs gets the long ones too (they are too long to try it
    // on: TRIAL_LIMIT_TOKENS)
    for (let d = 1; d < 32 && (Number.isNaN(c.cost[0]) || Number.isNaN(c.cost[1])); d++) {
      for (const near of [size - d, size + d]) {
        const n = this.choosers.get(`${kind} ${near}`);
        if (n) c.seedFrom(n);
      }
    }
    return c;
  }
}
