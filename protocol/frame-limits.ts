/**
 * How much structure one request frame may hold, checked while the frame is read and before (msgpack) or as
 * (protobuf) values are built, so that a frame costs time and memory in proportion to these numbers and not
 * to its byte length: 50 MiB of one-byte `nil`s would otherwise be 50 million values.
 */
export const FRAME_LIMITS = Object.freeze({
  /**
   * Values one frame may hold. msgpack: every map key, map value, array element and container counts one
   * (the frame's own map included). protobuf: every field tag and every value read counts one, so a field is
   * two and an element of a packed list one. The largest legitimate requests hold a few thousand (4 KiB of
   * environment variables is at most ~4,000 values; lists AWS bounds go to a few hundred); 100,000 is far
   * above that and still takes only milliseconds to read.
   */
  maxValues: 100_000,
  /**
   * Containers open at once (msgpack maps and arrays; protobuf messages and groups). The schema nests at
   * most six deep (a PutNetwork request: the request, its input, the subnets, a subnet, its routes, a
   * route); 32 leaves room and keeps a decoder that recurses far from the end of the stack.
   */
  maxDepth: 32,
});
