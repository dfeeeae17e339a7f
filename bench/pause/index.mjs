// The isolation benchmark's function: holds its context for `ms` milliseconds, so that many are alive at once.
export const handler = async (event) => {
  await new Promise((resolve) => setTimeout(resolve, event.ms));
  return {};
};
