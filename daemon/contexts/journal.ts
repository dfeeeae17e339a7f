/**
 * What a context's worker writes down for the main thread during an invocation — its log records and its
 * init duration — in shared memory, read once the invocation is over. Also when it ended by timeout or crash
 * and the thread can no longer answer, so the output that led up to the failure is not lost.
 *
 * Layout: a header of Int32 slots, then records of [float64 time][uint32 length][utf-8 bytes]. Only one side
 * touches the data at a time: the worker while it runs a task, the main thread after the task ended.
 */
import type { LogRecord } from './messages.js';

const WRITE_OFFSET = 0;
const DROPPED = 1;
/** Offset at which the records of the invocation proper begin; what precedes is init output. */
const INVOCATION_START = 2;
/** Init duration of a cold start in microseconds, or -1. */
const INIT_MICROS = 3;
/** Highest heap + external memory the worker measured during the invocation, in KiB. */
const PEAK_KIB = 4;
const HEADER_BYTES = 32;
const RECORD_HEADER_BYTES = 12;

export const JOURNAL_LOG_BYTES = 1024 * 1024;

export interface JournalEntries {
  readonly initLogs: LogRecord[];
  readonly logs: LogRecord[];
  /** Records that did not fit. */
  readonly dropped: number;
  /** The memory peak the worker last recorded (0 if none). */
  readonly peakMemoryBytes: number;
  /** Set when this invocation was the context's first: how long loading the handler took. */
  readonly initDurationMs?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Journal {
  readonly #header: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.#header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(buffer, HEADER_BYTES);
    this.#view = new DataView(buffer, HEADER_BYTES);
  }

  static create(bytes = JOURNAL_LOG_BYTES): Journal {
    const journal = new Journal(new SharedArrayBuffer(HEADER_BYTES + bytes));
    Atomics.store(journal.#header, INIT_MICROS, -1);
    return journal;
  }

  /**
   * Worker side: appends one record, or counts it as dropped when the ring is full. Once one record is
   * dropped, the rest are too, so what is kept is the beginning of the output, without gaps.
   */
  write(time: number, message: string): void {
    const offset = Atomics.load(this.#header, WRITE_OFFSET);
    const room = this.#bytes.byteLength - offset - RECORD_HEADER_BYTES;
    if (room <= 0 || Atomics.load(this.#header, DROPPED) > 0) {
      Atomics.add(this.#header, DROPPED, 1);
      return;
    }
    const { read, written } = encoder.encodeInto(message, this.#bytes.subarray(offset + RECORD_HEADER_BYTES, offset + RECORD_HEADER_BYTES + room));
    if (read < message.length) {
      Atomics.add(this.#header, DROPPED, 1);
      return;
    }
    this.#view.setFloat64(offset, time);
    this.#view.setUint32(offset + 8, written);
    Atomics.store(this.#header, WRITE_OFFSET, offset + RECORD_HEADER_BYTES + written);
  }

  /** Worker side: the handler module loaded in this long. */
  recordInitDuration(ms: number): void {
    Atomics.store(this.#header, INIT_MICROS, Math.round(ms * 1000));
  }

  /** Worker side: the memory peak so far, readable even if the thread is then killed. */
  recordPeakMemory(bytes: number): void {
    Atomics.store(this.#header, PEAK_KIB, Math.ceil(bytes / 1024));
  }

  /** Main-thread side, while the task runs: the init's duration once it is over. */
  peekInitDurationMs(): number | undefined {
    const micros = Atomics.load(this.#header, INIT_MICROS);
    return micros >= 0 ? micros / 1000 : undefined;
  }

  /** Worker side: what was written so far was init output. */
  markInvocationStart(): void {
    Atomics.store(this.#header, INVOCATION_START, Atomics.load(this.#header, WRITE_OFFSET));
  }

  /** Main-thread side: takes everything written since the last drain, records split at the invocation start. */
  drain(): JournalEntries {
    const end = Atomics.load(this.#header, WRITE_OFFSET);
    const invocationStart = Atomics.load(this.#header, INVOCATION_START);
    const initLogs: LogRecord[] = [];
    const logs: LogRecord[] = [];
    for (let offset = 0; offset < end; ) {
      const time = this.#view.getFloat64(offset);
      const length = this.#view.getUint32(offset + 8);
      const start = offset + RECORD_HEADER_BYTES;
      (offset < invocationStart ? initLogs : logs).push({ timestamp: time, message: decoder.decode(this.#bytes.subarray(start, start + length)) });
      offset = start + length;
    }
    const dropped = Atomics.exchange(this.#header, DROPPED, 0);
    const initMicros = Atomics.exchange(this.#header, INIT_MICROS, -1);
    const peakKib = Atomics.exchange(this.#header, PEAK_KIB, 0);
    Atomics.store(this.#header, WRITE_OFFSET, 0);
    Atomics.store(this.#header, INVOCATION_START, 0);
    return { initLogs, logs, dropped, peakMemoryBytes: peakKib * 1024, ...(initMicros >= 0 ? { initDurationMs: initMicros / 1000 } : {}) };
  }
}
