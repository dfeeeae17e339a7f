/**
 * The one errors table: every AWS exception lambdad raises, with its HTTP status, its `Type`, and the name
 * of the JSON member that carries the text (AWS uses `Message` for some and `message` for others; spec
 * lambda-api.md §4). Adapters map a LambdaError through this table and nothing else.
 */
export interface ErrorRow {
  readonly status: number;
  /** `User` for client faults, `Service` for ours; null where AWS sends no Type (schema validation). */
  readonly type: 'User' | 'Service' | null;
  readonly messageField: 'Message' | 'message';
  /** Seconds an HTTP client is told to wait before trying again (`Retry-After`). */
  readonly retryAfterSeconds?: number;
}

export const ERRORS = Object.freeze({
  ValidationException: { status: 400, type: null, messageField: 'message' },
  InvalidParameterValueException: { status: 400, type: 'User', messageField: 'message' },
  InvalidRequestContentException: { status: 400, type: 'User', messageField: 'message' },
  CodeStorageExceededException: { status: 400, type: 'User', messageField: 'message' },
  /** A protocol frame that decodes to no valid request. */
  SerializationException: { status: 400, type: null, messageField: 'message' },
  UnknownOperationException: { status: 400, type: null, messageField: 'message' },
  ResourceNotFoundException: { status: 404, type: 'User', messageField: 'Message' },
  ProvisionedConcurrencyConfigNotFoundException: { status: 404, type: 'User', messageField: 'message' },
  ResourceConflictException: { status: 409, type: 'User', messageField: 'message' },
  PreconditionFailedException: { status: 412, type: 'User', messageField: 'message' },
  RequestEntityTooLargeException: { status: 413, type: 'User', messageField: 'message' },
  /** Throttled: the body carries a `Reason` (spec lambda-api.md §3). */
  TooManyRequestsException: { status: 429, type: 'User', messageField: 'message', retryAfterSeconds: 1 },
  /** X-Ray's refusal of a malformed trace query. */
  InvalidRequestException: { status: 400, type: null, messageField: 'Message' },
  ServiceException: { status: 500, type: 'Service', messageField: 'Message' },
  // Authentication (SigV4), before any operation runs.
  MissingAuthenticationTokenException: { status: 403, type: 'User', messageField: 'message' },
  IncompleteSignatureException: { status: 400, type: 'User', messageField: 'message' },
  InvalidSignatureException: { status: 403, type: 'User', messageField: 'message' },
  UnrecognizedClientException: { status: 403, type: 'User', messageField: 'message' },
  /** A role session's credentials past their expiry (STS's wording). */
  ExpiredTokenException: { status: 403, type: 'User', messageField: 'message' },
  /** A function's execution-role session calling an operation beyond the data plane. */
  AccessDeniedException: { status: 403, type: 'User', messageField: 'Message' },
} as const satisfies Record<string, ErrorRow>);

export type ErrorName = keyof typeof ERRORS;

export class LambdaError extends Error {
  readonly code: ErrorName;
  /** Extra members of the error body, e.g. `Reason` of a throttle. */
  readonly details: Readonly<Record<string, string>>;

  constructor(code: ErrorName, message: string, details: Record<string, string> = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.details = Object.freeze({ ...details });
  }

  get row(): ErrorRow {
    return ERRORS[this.code];
  }
}

/** `1 validation error detected: Value 'x' at 'field' failed to satisfy constraint: …` — AWS's schema check. */
export function validationError(value: unknown, field: string, constraint: string): LambdaError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value);
  return new LambdaError(
    'ValidationException',
    `1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A required member left out: `Value null at 'role' failed to satisfy constraint: Member must not be null`. */
export function missingMember(field: string): LambdaError {
  return new LambdaError(
    'ValidationException',
    `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
  );
}

/** The same check on a sensitive member (environment variables): AWS leaves the value out of the message. */
export function sensitiveValidationError(field: string, constraint: string): LambdaError {
  return new LambdaError(
    'ValidationException',
    `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

export const invalidParameter = (message: string): LambdaError =>
  new LambdaError('InvalidParameterValueException', message);

export const notFound = (message: string): LambdaError => new LambdaError('ResourceNotFoundException', message);

export const conflict = (message: string): LambdaError => new LambdaError('ResourceConflictException', message);

export const revisionMismatch = (): LambdaError =>
  new LambdaError(
    'PreconditionFailedException',
    'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
  );
