/**
 * Function-name labels and function ARNs (spec lambda-api.md §1, §5). A label is what callers put where the
 * API says `FunctionName`: `my-fn`, `my-fn:qualifier`, `123456789012:function:my-fn`, or a full ARN,
 * optionally qualified. The control plane and the invoke path both read labels through here.
 */
import { invalidParameter, notFound, validationError } from '../errors.js';
import { LIMITS } from '../limits.js';

/** Where this registry lives: every ARN it hands out or accepts names this region and account. */
export interface ArnScope {
  readonly region: string;
  readonly accountId: string;
}

/** A label resolved to a function of this scope, with the qualifier the caller asked for, if any. */
export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
}

/** AWS's pattern for `FunctionName`, as quoted in its ValidationException. */
const FUNCTION_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const QUALIFIER_PATTERN = '(|[a-zA-Z0-9$_-]+)';
const QUALIFIER = /^[a-zA-Z0-9$_-]+$/;

// The same pattern, anchored, with its parts named.
const LABEL =
  /^(?:arn:(?<partition>aws[a-zA-Z-]*)?:lambda:)?(?:(?<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):)?(?:(?<accountId>\d{12}):)?(?:function:)?(?<name>[a-zA-Z0-9-_]+)(?::(?<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$/;

interface LabelParts {
  readonly partition?: string;
  readonly region?: string;
  readonly accountId?: string;
  readonly name: string;
  readonly qualifier?: string;
}

export function functionArn(scope: ArnScope, name: string, qualifier?: string): string {
  const arn = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${name}`;
  return qualifier === undefined ? arn : `${arn}:${qualifier}`;
}

/**
 * Parses a label and merges the qualifier passed beside it (`?Qualifier=`). A label naming another region,
 * account or partition names a function that does not exist here.
 */
export function parseFunctionLabel(scope: ArnScope, label: string, qualifier?: string): FunctionRef {
  if (label.length > LIMITS.functionLabelMaxLength) {
    throw validationError(label, 'functionName', `Member must have length less than or equal to ${LIMITS.functionLabelMaxLength}`);
  }
  const parts = LABEL.exec(label)?.groups as LabelParts | undefined;
  if (parts === undefined) {
    throw validationError(label, 'functionName', `Member must satisfy regular expression pattern: ${FUNCTION_NAME_PATTERN}`);
  }
  const { partition, region, accountId, name, qualifier: labelQualifier } = parts;
  if (name.length > LIMITS.functionNameMaxLength) {
    throw validationError(label, 'functionName', `Member must have length less than or equal to ${LIMITS.functionNameMaxLength}`);
  }
  const given = checkQualifier(qualifier);
  if (labelQualifier !== undefined && given !== undefined && labelQualifier !== given) {
    throw invalidParameter('The derived qualifier from the function name does not match the specified qualifier.');
  }
  const effective = labelQualifier ?? given;
  const foreign =
    (partition !== undefined && partition !== 'aws') ||
    (region !== undefined && region !== scope.region) ||
    (accountId !== undefined && accountId !== scope.accountId);
  if (foreign) {
    const theirs = { region: region ?? scope.region, accountId: accountId ?? scope.accountId };
    throw notFound(`Function not found: ${functionArn(theirs, name, effective)}`);
  }
  return { name, qualifier: effective };
}

/** `?Qualifier=`: absent or empty means none. */
function checkQualifier(qualifier: string | undefined): string | undefined {
  if (qualifier === undefined || qualifier === '') return undefined;
  if (qualifier.length > LIMITS.qualifierMaxLength) {
    throw validationError(qualifier, 'qualifier', `Member must have length less than or equal to ${LIMITS.qualifierMaxLength}`);
  }
  if (!QUALIFIER.test(qualifier)) {
    throw validationError(qualifier, 'qualifier', `Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`);
  }
  return qualifier;
}
