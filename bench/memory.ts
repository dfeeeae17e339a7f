/** `npm run bench -- memory`: RSS per warm execution context, over 100 contexts held at once (goal: ≤ 10 MB each). */
import { holdInFlight } from './in-flight.js';

await holdInFlight('memory', 100);
