/** Weighted alias routing on its own: the smooth split's ±1 promise, the random mode, a new alias revision. */
import { describe, expect, it } from 'vitest';
import type { InvokeTarget } from '../../dist/daemon/registry/index.js';
import { AliasRouting } from '../../dist/daemon/routing/index.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fn';

function target(version: string, alias?: { weights?: Record<string, number>; revisionId?: string; primary?: string }): InvokeTarget {
  return {
    configuration: { FunctionName: 'fn', Version: version } as InvokeTarget['configuration'],
    codeDirectory: `/code/${version}`,
    invokedFunctionArn: alias === undefined ? `${ARN}:${version}` : `${ARN}:live`,
    executedVersion: version,
    ...(alias === undefined
      ? {}
      : {
          alias: {
            AliasArn: `${ARN}:live`,
            Name: 'live',
            FunctionVersion: alias.primary ?? version,
            Description: '',
            RevisionId: alias.revisionId ?? 'r1',
            ...(alias.weights === undefined ? {} : { RoutingConfig: { AdditionalVersionWeights: alias.weights } }),
          },
        }),
  };
}

const resolveVersion = (_name: string, version: string): InvokeTarget => target(version);

describe('smooth weighted routing', () => {
  it('keeps the count of the extra version within ±1 of N·w after every invocation', () => {
    for (const weight of [0.02, 0.1, 0.333, 0.5, 0.97]) {
      const routing = new AliasRouting(resolveVersion);
      const aliased = target('1', { weights: { '2': weight } });
      let extra = 0;
      for (let n = 1; n <= 10_000; n++) {
        const chosen = routing.route(aliased);
        if (chosen.executedVersion === '2') extra += 1;
        expect(Math.abs(extra - n * weight), `weight ${weight} after ${n}`).toBeLessThanOrEqual(1);
      }
      expect(extra).toBe(Math.round(10_000 * weight));
    }
  });

  it('runs the extra version under the alias ARN, and leaves plain versions and unweighted aliases alone', () => {
    const routing = new AliasRouting(resolveVersion);
    const aliased = target('1', { weights: { '2': 0.5 } });
    const picks = [routing.route(aliased), routing.route(aliased)];
    const extra = picks.find((pick) => pick.executedVersion === '2')!;
    expect(extra.invokedFunctionArn).toBe(`${ARN}:live`);
    expect(extra.codeDirectory).toBe('/code/2');
    expect(extra.alias?.Name).toBe('live');

    const plain = target('3');
    expect(routing.route(plain)).toBe(plain);
    const unweighted = target('1', { revisionId: 'r9' });
    expect(routing.route(unweighted)).toBe(unweighted);
  });

  it('starts a fresh split when the alias changes revision: the next call follows the new weights', () => {
    const routing = new AliasRouting(resolveVersion);
    const before = target('1', { weights: { '2': 0.5 }, revisionId: 'r1' });
    routing.route(before);
    const after = target('2', { revisionId: 'r2' });
    for (let i = 0; i < 5; i++) expect(routing.route(after).executedVersion).toBe('2');
  });
});

describe('random weighted routing', () => {
  it('draws once per call, as AWS does', () => {
    const draws = [0.01, 0.5, 0.019, 0.02, 0.9];
    const routing = new AliasRouting(resolveVersion, 'random', () => draws.shift()!);
    const aliased = target('1', { weights: { '2': 0.02 } });
    expect([1, 2, 3, 4, 5].map(() => routing.route(aliased).executedVersion)).toEqual(['2', '1', '2', '1', '1']);
  });
});
