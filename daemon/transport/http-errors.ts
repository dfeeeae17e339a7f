/** An error as the AWS API sends it over HTTP: status, `X-Amzn-ErrorType`, a JSON body (spec lambda-api.md §4). */
import { LambdaError } from '../errors.js';

export interface HttpError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function httpError(error: unknown): HttpError {
  const known = error instanceof LambdaError ? error : new LambdaError('ServiceException', 'lambdad failed to process the request.');
  const { status, type, messageField, retryAfterSeconds } = known.row;
  const body = JSON.stringify({ ...(type === null ? {} : { Type: type }), [messageField]: known.message, ...known.details });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-errortype': known.code };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  return { status, headers, body };
}
