// The function the payload benchmark invokes: returns its event.
export const handler = async (event) => event;
