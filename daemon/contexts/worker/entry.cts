/**
 * The worker's entry as Piscina loads it: with require(). The runtime is an ES module, loaded here with
 * import() as soon as the thread starts: Node 20's require() of an ES module can fail a native assertion
 * (ModuleWrap::CreateRequiredModuleFacade) when threads load it concurrently, which aborts the whole process.
 */
type Run = (task: unknown) => unknown;

const runtime = import('./bootstrap.js') as Promise<{ default: Run }>;
let loaded: Run | null = null;
// A failed load is reported by the first task that waits for it, not as an unhandled rejection before then.
runtime.then(
  (module) => (loaded = module.default),
  () => undefined,
);

/** Once the runtime is loaded, tasks call it directly: no promise of our own per task. */
function run(task: unknown): unknown {
  return loaded !== null ? loaded(task) : runtime.then((module) => module.default(task));
}

export = run;
