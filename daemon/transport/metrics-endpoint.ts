/**
 * `GET /metrics`: the Prometheus scrape. From loopback it needs no signature unless `--metrics-auth sigv4`;
 * from anywhere else (a daemon listening beyond loopback) it must be signed like every other request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { LambdaError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { httpError } from './http-errors.js';
import { fromLoopback } from './loopback.js';
import type { SigV4Verifier } from './sigv4.js';

export const METRICS_PATH = '/metrics';

/** `markAuthenticated` is told of each connection whose scrape was signed (as the REST adapter does). */
export function metricsEndpoint(metrics: Metrics, verifier: SigV4Verifier | null, alwaysSigned: boolean, markAuthenticated: (socket: Duplex) => void): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const answer = async (): Promise<string> => {
      if (request.method !== 'GET') throw new LambdaError('UnknownOperationException', `No Lambda operation is served at ${request.method} ${METRICS_PATH}`);
      if (verifier !== null && (alwaysSigned || !fromLoopback(request.socket))) {
        await verifier.verify({ method: 'GET', url: request.url ?? METRICS_PATH, headers: request.headers });
        markAuthenticated(request.socket);
      }
      return metrics.text();
    };
    answer().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        response.end(text);
      },
      (error: unknown) => {
        const { status, headers, body } = httpError(error);
        response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
        response.end(body);
      },
    );
  };
}
