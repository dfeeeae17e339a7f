// The function the hostile-client benchmark's slow readers invoke: a response of `bytes` bytes from a small event.
export const handler = async (event) => 'x'.repeat(event.bytes);
