/**
 * What a function's execution-role session may do: the data plane — invoke functions, use lambdad's queues,
 * read and follow logs — and nothing that changes or reads the account's configuration. Anything else is
 * refused as IAM refuses an action no policy allows.
 */
import { LambdaError } from '../errors.js';
import type { RoleSession, RoleSessions } from './index.js';

const DATA_PLANE: Readonly<Record<string, string>> = Object.freeze({
  Invoke: 'lambda',
  SendMessage: 'sqs',
  ReceiveMessage: 'sqs',
  DeleteMessage: 'sqs',
  GetLogEvents: 'logs',
  FilterLogEvents: 'logs',
  TailLogs: 'logs',
  UntailLogs: 'logs',
});

/** The IAM action prefix of an operation beyond Lambda's own API. */
const SERVICE_OF: Readonly<Record<string, string>> = Object.freeze({
  CreateQueue: 'sqs',
  DeleteQueue: 'sqs',
  ListQueues: 'sqs',
  GetTraceSummaries: 'xray',
  BatchGetTraces: 'xray',
  PutRole: 'iam',
  DeleteRole: 'iam',
  ListRoles: 'iam',
  PutNetwork: 'ec2',
  GetNetwork: 'ec2',
});

export class Authorizer {
  readonly #region: string;
  readonly #accountId: string;
  readonly #sessions: RoleSessions;

  constructor(region: string, accountId: string, sessions: RoleSessions) {
    this.#region = region;
    this.#accountId = accountId;
    this.#sessions = sessions;
  }

  /**
   * Throws unless `session` may call `operation` (on the function named, if any) now: ExpiredTokenException
   * once it expired (a WebSocket connection outlives its signature), AccessDeniedException beyond the data plane.
   */
  authorize(session: RoleSession, operation: string, functionName: string | undefined): void {
    if (this.#sessions.isExpired(session)) throw new LambdaError('ExpiredTokenException', 'The security token included in the request is expired');
    if (DATA_PLANE[operation] !== undefined) return;
    const action = `${SERVICE_OF[operation] ?? 'lambda'}:${operation}`;
    const resource = functionName === undefined ? '*' : functionName.startsWith('arn:') ? functionName : `arn:aws:lambda:${this.#region}:${this.#accountId}:function:${functionName}`;
    throw new LambdaError('AccessDeniedException', `User: ${session.principalArn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`);
  }
}
