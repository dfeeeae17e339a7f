/**
 * The numbers of the daemon's HTTP front door (README "Limits a client meets"): how long a client has to send
 * what, and how deep a JSON body may nest. The connection counts are options (`--max-connections`,
 * `--max-connections-per-address`); these are not.
 */
export const HTTP_LIMITS = Object.freeze({
  /** A request's headers must be complete this long after its first byte (Node answers 408 and closes). */
  headersTimeoutMs: 10_000,
  /**
   * A whole request, body included, must arrive within this long: a 70 MB CreateFunction needs ~240 KB/s.
   * Node answers 408 and closes.
   */
  requestTimeoutMs: 300_000,
  /** How often Node checks the two timeouts above: the lateness of a 408. */
  timeoutCheckIntervalMs: 1_000,
  /** An authenticated connection with nothing in flight is closed after this long (HTTP keep-alive). */
  keepAliveTimeoutMs: 5_000,
  /**
   * A connection no request has authenticated yet is closed after this long with nothing in flight: from the
   * moment it opens (Node itself never times out a connection that sends no byte), or since its last answer.
   */
  unauthenticatedIdleMs: 10_000,
  /** A TLS handshake must be over within this long. */
  tlsHandshakeTimeoutMs: 10_000,
  /** After an answer that closes the connection before the body was read, the rest is discarded this long at most. */
  lingerMs: 2_000,
  /** Arrays and objects in a JSON request body nest at most this deep. */
  jsonMaxDepth: 64,
});
