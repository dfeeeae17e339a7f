/**
 * Weighted alias routing: an alias with `AdditionalVersionWeights {v: w}` sends the fraction w of its
 * invocations to version v and the rest to its primary version. By default the split is smooth: after any N
 * invocations through the alias, v has run round(N·w) times (so within ±1 of N·w), which makes a 2 % canary
 * visible after 50 calls instead of "probably". `random` picks per call, as AWS does.
 * Each alias revision's split is prepared once, with both invoke targets resolved; an UpdateAlias makes a new
 * revision, so the next invocation uses the new split while running ones finish on the version they started.
 */
import type { InvokeTarget } from '../registry/index.js';

export type RoutingMode = 'smooth' | 'random';

/** Resolves one version of a function for invocation. */
export type ResolveVersion = (functionName: string, version: string) => InvokeTarget;

interface Split {
  readonly revisionId: string;
  readonly weight: number;
  readonly primary: InvokeTarget;
  readonly additional: InvokeTarget;
  picks: number;
  additionalPicks: number;
}

export class AliasRouting {
  readonly #resolve: ResolveVersion;
  readonly #mode: RoutingMode;
  readonly #random: () => number;
  /** By alias ARN: the split of the alias revision seen last. */
  readonly #splits = new Map<string, Split>();

  constructor(resolve: ResolveVersion, mode: RoutingMode = 'smooth', random: () => number = Math.random) {
    this.#resolve = resolve;
    this.#mode = mode;
    this.#random = random;
  }

  /** The target to run: `target` itself unless it names an alias that splits its traffic. */
  route(target: InvokeTarget): InvokeTarget {
    const alias = target.alias;
    if (alias === undefined) return target;
    const split = this.#split(target, alias.AliasArn, alias.RevisionId);
    if (split.weight === 0) return target;
    split.picks += 1;
    const toAdditional = this.#mode === 'random' ? this.#random() < split.weight : split.additionalPicks < Math.round(split.picks * split.weight);
    if (!toAdditional) return split.primary;
    split.additionalPicks += 1;
    return split.additional;
  }

  #split(target: InvokeTarget, aliasArn: string, revisionId: string): Split {
    const known = this.#splits.get(aliasArn);
    if (known !== undefined && known.revisionId === revisionId) return known;
    const [entry] = Object.entries(target.alias?.RoutingConfig?.AdditionalVersionWeights ?? {});
    // An alias without weights is a split that never picks its additional side.
    const [version, weight] = entry ?? [target.executedVersion, 0];
    const resolved = weight === 0 ? target : this.#resolve(target.configuration.FunctionName, version);
    // The additional version runs under the alias's name: the handler sees the alias ARN it was invoked by.
    const additional: InvokeTarget = Object.freeze({ ...resolved, invokedFunctionArn: target.invokedFunctionArn, ...(target.alias === undefined ? {} : { alias: target.alias }) });
    const split: Split = { revisionId, weight, primary: target, additional, picks: 0, additionalPicks: 0 };
    this.#splits.set(aliasArn, split);
    return split;
  }
}
