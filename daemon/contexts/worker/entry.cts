/**
 * The worker's entry as Piscina loads it: with require(). The runtime is an ES module, loaded here with
 * import() as soon as the thread starts: Node 20's require() of an ES module can fail a native assertion
 * (ModuleWrap::CreateRequiredModuleFacade) when threads load it concurrently, which aborts the whole process.
 */
type Run = (task: unknown) => Promise<unknown>;

const runtime = import('./bootstrap.js') as Promise<{ default: Run }>;
// A failed load is reported by the first task that awaits it, not as an unhandled rejection before then.
runtime.catch(() => undefined);

async function run(task: unknown): Promise<unknown> {
  return (await runtime).default(task);
}

export = run;
