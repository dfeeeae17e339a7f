/** `npm run bench:scale`: 1,000 invocations in flight on one daemon (it starts 1,000 threads: ~9 GB). */
import { holdInFlight } from './in-flight.js';

await holdInFlight('scale', 1_000);
