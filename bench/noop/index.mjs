// The function the benchmarks invoke: returns at once.
export const handler = async () => ({});
