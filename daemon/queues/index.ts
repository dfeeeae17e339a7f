/**
 * Durable named message queues, SQS-like: the destinations and dead-letter queues of asynchronous
 * invocation. A received message is in flight for its visibility timeout and comes back unless the
 * receiver deletes it with the receipt handle of that receive. Every operation that takes a queue takes
 * its name or its ARN.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, Ids } from '../clock.js';
import { LIMITS } from '../limits.js';
import { conflict, invalidParameter, notFound, validationError } from '../errors.js';
import { QueueStore, type MessageRow, type QueueRow } from './store.js';

/** SQS's limit on a message: its body and its attributes' names, types and values together. */

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const QUEUE_NAME_PATTERN = '[A-Za-z0-9_-]{1,80}';
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
/** Bytes of randomness in a receipt handle: it is the only proof a deleter received the message. */
const RECEIPT_HANDLE_BYTES = 32;

export interface QueueOptions {
  dataDir: string;
  region: string;
  accountId: string;
  clock: Clock;
  ids: Ids;
}

export interface QueueInfo {
  QueueName: string;
  QueueArn: string;
  /** Epoch seconds. */
  CreatedTimestamp: number;
  /** Seconds. */
  VisibilityTimeout: number;
  ApproximateNumberOfMessages: number;
  ApproximateNumberOfMessagesNotVisible: number;
}

export interface QueueMessage {
  MessageId: string;
  ReceiptHandle: string;
  Body: string;
  MD5OfBody: string;
  /** Timestamps are epoch milliseconds, as SQS gives them. */
  Attributes: { ApproximateReceiveCount: string; SentTimestamp: string; ApproximateFirstReceiveTimestamp: string };
  MessageAttributes?: Record<string, { DataType: 'String' | 'Number'; StringValue: string }>;
}

type MessageAttributes = NonNullable<QueueMessage['MessageAttributes']>;

export class Queues {
  readonly #store: QueueStore;
  readonly #options: QueueOptions;
  readonly #arnPrefix: string;

  private constructor(options: QueueOptions, store: QueueStore) {
    this.#options = options;
    this.#store = store;
    this.#arnPrefix = `arn:aws:sqs:${options.region}:${options.accountId}:`;
  }

  static open(options: QueueOptions): Queues {
    mkdirSync(options.dataDir, { recursive: true });
    return new Queues(options, new QueueStore(join(options.dataDir, 'queues.db')));
  }

  close(): void {
    this.#store.close();
  }

  /** Creates a queue, or returns it if it exists with the same visibility timeout (or none was asked for). */
  createQueue(name: string, visibilityTimeoutSeconds?: number): QueueInfo {
    checkName(name);
    if (visibilityTimeoutSeconds !== undefined) checkSeconds(visibilityTimeoutSeconds, 'visibilityTimeout');
    const now = this.#options.clock.now();
    const row = this.#store.transaction(() => {
      const existing = this.#store.queue(name, now);
      if (existing === undefined) {
        this.#store.insertQueue(name, now, visibilityTimeoutSeconds ?? LIMITS.queueVisibilityTimeoutDefaultSeconds);
        return this.#store.queue(name, now)!;
      }
      if (visibilityTimeoutSeconds !== undefined && visibilityTimeoutSeconds !== existing.visibilityTimeout) {
        throw conflict(`Queue already exists with a different visibility timeout: ${name}`);
      }
      return existing;
    });
    return this.#info(row);
  }

  /** Deletes a queue with every message in it. */
  deleteQueue(queue: string): void {
    const name = this.resolve(queue);
    if (!this.#store.transaction(() => this.#store.deleteQueue(name))) throw queueNotFound(name);
  }

  listQueues(): QueueInfo[] {
    return this.#store.queues(this.#options.clock.now()).map((row) => this.#info(row));
  }

  getQueue(queue: string): QueueInfo {
    return this.#info(this.#row(this.resolve(queue), this.#options.clock.now()));
  }

  /** The queue name of a name, or of an ARN of this region and account; does not check that the queue exists. */
  resolve(nameOrArn: string): string {
    if (!nameOrArn.startsWith('arn:')) {
      checkName(nameOrArn);
      return nameOrArn;
    }
    const name = nameOrArn.slice(this.#arnPrefix.length);
    if (!nameOrArn.startsWith(this.#arnPrefix) || !QUEUE_NAME.test(name)) {
      throw invalidParameter(`The queue ARN is not valid for this region and account: ${nameOrArn}`);
    }
    return name;
  }

  sendMessage(queue: string, body: string, attributes?: MessageAttributes): { MessageId: string; MD5OfMessageBody: string } {
    const name = this.resolve(queue);
    checkMessage(body, attributes);
    const messageId = this.#options.ids.uuid();
    const md5 = md5Hex(body);
    const sentMs = this.#options.clock.now();
    const stored = attributes === undefined || Object.keys(attributes).length === 0 ? null : JSON.stringify(attributes);
    this.#store.transaction(() => {
      this.#visibilityTimeout(name);
      this.#store.insertMessage({ queue: name, messageId, body, md5, attributes: stored, sentMs });
    });
    return { MessageId: messageId, MD5OfMessageBody: md5 };
  }

  /**
   * Hands out up to `maxNumberOfMessages` visible messages, oldest first. Each is in flight for the
   * visibility timeout (the queue's unless given) and gets a new receipt handle.
   */
  receiveMessages(queue: string, maxNumberOfMessages = 1, visibilityTimeoutSeconds?: number): QueueMessage[] {
    const name = this.resolve(queue);
    if (!Number.isInteger(maxNumberOfMessages) || maxNumberOfMessages < 1 || maxNumberOfMessages > LIMITS.queueReceiveMax) {
      throw validationError(maxNumberOfMessages, 'maxNumberOfMessages', `Member must be between 1 and ${LIMITS.queueReceiveMax}`);
    }
    if (visibilityTimeoutSeconds !== undefined) checkSeconds(visibilityTimeoutSeconds, 'visibilityTimeout');
    const now = this.#options.clock.now();
    return this.#store.transaction(() => {
      // Looked up even when overridden: it is also the check that the queue exists.
      const queueTimeout = this.#visibilityTimeout(name);
      const timeout = visibilityTimeoutSeconds ?? queueTimeout;
      return this.#store.visibleMessages(name, now, maxNumberOfMessages).map((row) => {
        const receiptHandle = this.#options.ids.hex(RECEIPT_HANDLE_BYTES);
        this.#store.markReceived(row.seq, receiptHandle, now, now + timeout * 1000);
        return toMessage(row, receiptHandle, now);
      });
    });
  }

  /** Deletes a message with the receipt handle of its latest receive. */
  deleteMessage(queue: string, receiptHandle: string): void {
    const name = this.resolve(queue);
    this.#store.transaction(() => {
      this.#visibilityTimeout(name);
      if (!this.#store.deleteMessage(name, receiptHandle)) {
        throw invalidParameter(`The receipt handle is not valid: ${receiptHandle}`);
      }
    });
  }

  /** Also the check that the queue exists, without counting its messages. */
  #visibilityTimeout(name: string): number {
    const seconds = this.#store.visibilityTimeout(name);
    if (seconds === undefined) throw queueNotFound(name);
    return seconds;
  }

  #row(name: string, nowMs: number): QueueRow {
    const row = this.#store.queue(name, nowMs);
    if (row === undefined) throw queueNotFound(name);
    return row;
  }

  #info(row: QueueRow): QueueInfo {
    return {
      QueueName: row.name,
      QueueArn: `${this.#arnPrefix}${row.name}`,
      CreatedTimestamp: Math.floor(row.createdMs / 1000),
      VisibilityTimeout: row.visibilityTimeout,
      ApproximateNumberOfMessages: row.visible,
      ApproximateNumberOfMessagesNotVisible: row.inFlight,
    };
  }
}

const queueNotFound = (name: string) => notFound(`Queue not found: ${name}`);

function checkName(name: string): void {
  if (!QUEUE_NAME.test(name)) {
    throw validationError(name, 'queueName', `Member must satisfy regular expression pattern: ${QUEUE_NAME_PATTERN}`);
  }
}

function checkSeconds(seconds: number, field: string): void {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > LIMITS.queueVisibilityTimeoutMaxSeconds) {
    throw validationError(seconds, field, `Member must be between 0 and ${LIMITS.queueVisibilityTimeoutMaxSeconds}`);
  }
}

/** SQS's rules: a non-empty body, at most 10 typed attributes, everything within the size limit. */
function checkMessage(body: string, attributes: MessageAttributes | undefined): void {
  if (body.length === 0) {
    throw validationError(body, 'messageBody', 'Member must have length greater than or equal to 1');
  }
  let bytes = Buffer.byteLength(body);
  const entries = Object.entries(attributes ?? {});
  if (entries.length > LIMITS.queueMessageAttributesMax) {
    throw invalidParameter(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${LIMITS.queueMessageAttributesMax}].`);
  }
  for (const [name, { DataType, StringValue }] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) throw invalidParameter(`Message attribute name '${name}' is invalid.`);
    const typed =
      typeof StringValue === 'string' &&
      (DataType === 'String' || (DataType === 'Number' && StringValue.trim() !== '' && Number.isFinite(Number(StringValue))));
    if (!typed) {
      throw invalidParameter(`Message attribute '${name}' must be a String or a Number with a matching StringValue.`);
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(DataType) + Buffer.byteLength(StringValue);
  }
  if (bytes > LIMITS.queueMessageMaxBytes) {
    throw invalidParameter(
      `One or more parameters are invalid. Reason: Message must be shorter than ${LIMITS.queueMessageMaxBytes} bytes.`,
    );
  }
}

function md5Hex(body: string): string {
  return createHash('md5').update(body).digest('hex');
}

function toMessage(row: MessageRow, receiptHandle: string, nowMs: number): QueueMessage {
  const message: QueueMessage = {
    MessageId: row.messageId,
    ReceiptHandle: receiptHandle,
    Body: row.body,
    MD5OfBody: row.md5,
    Attributes: {
      ApproximateReceiveCount: String(row.receiveCount + 1),
      SentTimestamp: String(row.sentMs),
      ApproximateFirstReceiveTimestamp: String(row.firstReceiveMs ?? nowMs),
    },
  };
  if (row.attributes !== null) message.MessageAttributes = JSON.parse(row.attributes) as MessageAttributes;
  return message;
}
