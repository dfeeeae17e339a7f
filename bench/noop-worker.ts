/** The floor: a Piscina task that does nothing with the bytes it is given. */
export default function noop(payload: Uint8Array): Uint8Array {
  return payload;
}
