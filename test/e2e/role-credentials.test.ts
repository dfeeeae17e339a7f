/**
 * Execution-role credentials: each function gets a temporary session of its role (never the daemon's keys) and
 * lambdad's endpoint, so an unchanged AWS SDK handler reaches lambdad; the session may invoke, not administer,
 * and it expires. A real daemon with SigV4, the real AWS SDK bundled into a handler, sandboxed runners.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ListFunctionsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFunction } from '../helpers/bundle.js';
import { event, FIXTURES, json, ROLE, startDaemon, type TestDaemon } from '../helpers/daemon.js';

/** A clock the test can move forward; time otherwise passes as usual. */
const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
let harness: TestDaemon;
let bundle: string;

async function call(payload: Record<string, unknown>) {
  const result = await harness.daemon.service.invoke({ functionName: 'sdk-caller', payload: event(payload) });
  return { result, body: json(result.payload) };
}

beforeAll(async () => {
  bundle = await bundleFunction(join(FIXTURES, 'sdk-caller', 'index.mjs'));
  harness = await startDaemon({ auth: 'sigv4' }, undefined, { clock });
  harness.daemon.service.createFunction({ FunctionName: 'sdk-caller', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { Directory: bundle }, MemorySize: 1024, Timeout: 30 });
  harness.daemon.service.createFunction({ FunctionName: 'callee', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'counter.handler', Code: { Directory: join(FIXTURES, 'behaviours') } });
});

afterAll(async () => {
  await harness.stop();
  rmSync(bundle, { recursive: true, force: true });
});

describe('execution-role credentials', () => {
  it('let an unchanged AWS SDK handler invoke another function through lambdad', async () => {
    const { result, body } = await call({ action: 'invoke', target: 'callee' });
    expect(result.functionError).toBeUndefined();
    expect(body).toEqual({ payload: { count: 1 } });
  });

  it('are refused a control-plane call with AccessDeniedException in IAM\'s words', async () => {
    const { body } = await call({ action: 'create' });
    expect(body).toEqual({
      error: 'AccessDeniedException',
      message:
        'User: arn:aws:sts::000000000000:assumed-role/lambda-role/sdk-caller is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:us-east-1:000000000000:function:made-from-a-handler because no identity-based policy allows the lambda:CreateFunction action',
    });
    expect(() => harness.daemon.service.getFunction('made-from-a-handler')).toThrow();
  });

  it('are a temporary session, not the daemon\'s keys; a wrong token is refused, an expired session is refused and renewed', async () => {
    const { body: session } = await call({ action: 'credentials' });
    expect(session.accessKeyId).toMatch(/^ASIA/);
    expect(session.accessKeyId).not.toBe(harness.credentials().accessKeyId);
    const client = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => new LambdaClient({ endpoint: harness.daemon.url, region: 'us-east-1', credentials, maxAttempts: 1 });

    await expect(client({ ...session, sessionToken: 'not-the-token' }).send(new ListFunctionsCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(client(session).send(new ListFunctionsCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });

    clock.offsetMs += 2 * 60 * 60 * 1000;
    await expect(client(session).send(new ListFunctionsCommand({}))).rejects.toMatchObject({ name: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
    // The context holding the expired session is replaced: a cold start with a new session.
    const { result, body: renewed } = await call({ action: 'credentials' });
    expect(renewed.accessKeyId).not.toBe(session.accessKeyId);
    expect(result.log).toMatch(/\tInit Duration: /);
  });
});
