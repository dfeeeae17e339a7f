/** The event bytes of an invocation: JSON, or nothing (which Lambda reads as `{}`). */
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The parsed event, or Lambda's InvalidRequestContentException message for bytes that are not JSON. */
export function parseEvent(payload: Uint8Array): { ok: true; event: unknown } | { ok: false; message: string } {
  if (payload.byteLength === 0) return { ok: true, event: {} };
  try {
    return { ok: true, event: JSON.parse(decoder.decode(payload)) };
  } catch (error) {
    return { ok: false, message: `Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}` };
  }
}
