/**
 * The `lambdad <operation>` command line: `aws lambda`'s operations and flags, each a thin translation onto
 * one LambdadClient call whose result is printed as the AWS CLI prints it.
 */
import { LambdadClient } from '../node/index.js';
import { parseFlags, toInput, UsageError } from './args.js';
import { GLOBAL_FLAGS, OPERATIONS, type OperationSpec } from './operations.js';
import { EXIT, operationHelp, printResult, reportError } from './output.js';

export { overview } from './output.js';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:9001';

/** How many words a global flag at the head of the command line takes: `--codec x` 2, `--codec=x` 1, else 0. */
function globalFlagWords(word: string): number {
  const match = /^--([^=]+)(=?)/.exec(word);
  if (match === null || GLOBAL_FLAGS[match[1]!] === undefined) return 0;
  return match[2] === '=' ? 1 : 2;
}

const GROUPS: ReadonlySet<string> = new Set(['logs', 'xray', 'iam', 'network']);

/** Splits `argv` into the operation and its parameters; global flags may come before the operation too. */
function findOperation(argv: readonly string[]): { spec: OperationSpec; args: string[] } {
  let at = 0;
  for (let words = globalFlagWords(argv[0] ?? ''); words > 0; words = globalFlagWords(argv[at] ?? '')) at += words;
  const word = argv[at];
  // `logs`, `xray`, `iam` and `network` name a group, as in the AWS CLI: the next word is the command.
  const name = word !== undefined && GROUPS.has(word) ? `${word} ${argv[at + 1] ?? ''}` : word;
  const spec = name === undefined ? undefined : OPERATIONS.get(name);
  if (spec === undefined) {
    throw new UsageError(`argument operation: Invalid choice '${name ?? ''}', valid choices are: ${[...OPERATIONS.keys()].join(', ')}`);
  }
  return { spec, args: [...argv.slice(0, at), ...argv.slice(at + spec.name.split(' ').length)] };
}

const wantsHelp = (args: readonly string[]): boolean => args.includes('--help') || args.includes('-h') || (args.length === 1 && args[0] === 'help');

/** Runs one command line (without the program name); resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let spec: OperationSpec | undefined;
  let endpoint = process.env.LAMBDAD_ENDPOINT_URL || DEFAULT_ENDPOINT;
  let client: LambdadClient | undefined;
  try {
    const found = findOperation(argv);
    spec = found.spec;
    if (wantsHelp(found.args)) {
      process.stdout.write(operationHelp(spec));
      return EXIT.ok;
    }
    const { values, positionals } = parseFlags(found.args, { ...GLOBAL_FLAGS, ...spec.flags });
    const expected = spec.positionals ?? [];
    if (positionals.length < expected.length) {
      throw new UsageError(`the following arguments are required: ${expected.slice(positionals.length).map((word) => word.name).join(', ')}`);
    }
    if (positionals.length > expected.length) throw new UsageError(`Unknown options: ${positionals.slice(expected.length).join(', ')}`);
    endpoint = (values.get('endpoint-url') as string | undefined) ?? endpoint;
    client = await LambdadClient.connect({ url: endpoint, codec: values.get('codec') === 'protobuf' ? 'protobuf' : 'msgpack' });
    printResult(await spec.run(client, toInput(values, spec.flags), positionals));
    return EXIT.ok;
  } catch (error) {
    return reportError(error, spec?.operation, endpoint);
  } finally {
    client?.close();
  }
}
