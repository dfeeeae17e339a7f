/**
 * Delivery of asynchronous outcomes: an invocation record to a destination, a failed event to its function's
 * dead-letter queue. A function destination is invoked asynchronously with the record as its event (queued in
 * the same transaction that finishes the source event); a queue destination gets the record as a message.
 */
import type { Destinations } from './configs.js';
import type { EventRecord } from './event-store.js';

export interface DeliveryTargets {
  /** Queues an event for a function (durably, in the caller's transaction). */
  enqueue(functionName: string, qualifier: string | null, payload: Uint8Array): void;
  /** Sends a message to a lambdad queue, by name; throws if it cannot (the queue was deleted). */
  send(queueName: string, body: string, attributes?: Record<string, { DataType: 'String' | 'Number'; StringValue: string }>): void;
  /** A record or dead letter that could not be delivered: lost, as on AWS, and reported. */
  failed(kind: 'destination' | 'dead-letter', event: EventRecord, target: string, error: Error): void;
  /** The dead-letter target ARN of the version an event ran, if the function has one. */
  deadLetterTarget(event: EventRecord): string | null;
}

const FUNCTION_ARN = /^arn:aws:lambda:[^:]+:\d{12}:function:([^:]+)(?::(.+))?$/;
const QUEUE_ARN = /^arn:aws:sqs:[^:]+:\d{12}:(.+)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class DestinationDelivery implements Destinations {
  readonly #targets: DeliveryTargets;

  constructor(targets: DeliveryTargets) {
    this.#targets = targets;
  }

  deliver(event: EventRecord, destination: string | null, record: string): void {
    if (destination === null) return;
    const fn = FUNCTION_ARN.exec(destination);
    if (fn !== null) {
      this.#targets.enqueue(fn[1]!, fn[2] ?? null, encoder.encode(record));
      return;
    }
    const queue = QUEUE_ARN.exec(destination);
    if (queue === null) return;
    try {
      this.#targets.send(queue[1]!, record);
    } catch (error) {
      this.#targets.failed('destination', event, destination, error as Error);
    }
  }

  /** The DLQ message: the event itself, with its request id and error as message attributes (spec §1). */
  deadLetter(event: EventRecord, errorMessage: string | null): void {
    const target = this.#targets.deadLetterTarget(event);
    const queue = target === null ? null : QUEUE_ARN.exec(target);
    if (queue === null || queue === undefined) return;
    try {
      this.#targets.send(queue[1]!, decoder.decode(event.payload), {
        RequestID: { DataType: 'String', StringValue: event.id },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: { DataType: 'String', StringValue: errorMessage ?? '' },
      });
    } catch (error) {
      this.#targets.failed('dead-letter', event, target!, error as Error);
    }
  }
}
