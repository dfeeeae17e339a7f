/**
 * Closing a connection whose request body was not read. Node ends a `connection: close` answer with
 * `socket.destroySoon()`, which closes the socket as soon as the answer is flushed; closing with unread input
 * makes the kernel send a reset, and a client that writes its whole body before it reads (Python's
 * http.client, so botocore and the AWS CLI) loses the answer to a broken pipe. Instead the socket half-closes
 * after the answer, Node drops (never keeps) what still arrives, and the socket is destroyed when the client
 * closes its side or after `HTTP_LIMITS.lingerMs` — a lingering close, as nginx does it.
 */
import type { Socket } from 'node:net';
import { HTTP_LIMITS } from './http-limits.js';

export function lingerOnClose(socket: Socket): void {
  socket.destroySoon = function lingeringClose(this: Socket): void {
    this.end();
    const timer = setTimeout(() => this.destroy(), HTTP_LIMITS.lingerMs);
    timer.unref();
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(timer));
  };
}
