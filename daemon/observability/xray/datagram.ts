/**
 * The X-Ray daemon's UDP format (spec xray-and-vpc.md §2–3): a header line, a newline, one JSON segment or
 * subsegment document, at most 64 kB. Documents are checked for the fields X-Ray requires before they are kept.
 */
import { ROOT, SEGMENT_ID } from '../trace-header.js';
import type { SegmentDocument } from './segments.js';

const HEADER = '{"format":"json","version":1}';
export const DATAGRAM_MAX_BYTES = 64 * 1024;

export class SegmentDocumentError extends Error {
  override readonly name = 'SegmentDocumentError';
}

export function encodeDatagram(document: SegmentDocument): Buffer {
  return Buffer.from(`${HEADER}\n${JSON.stringify(document)}`);
}

/** The document a datagram carries; throws SegmentDocumentError saying what is wrong with it. */
export function decodeDatagram(datagram: Buffer): SegmentDocument {
  if (datagram.byteLength > DATAGRAM_MAX_BYTES) throw new SegmentDocumentError(`datagram of ${datagram.byteLength} bytes is over ${DATAGRAM_MAX_BYTES}`);
  const text = datagram.toString('utf8');
  const newline = text.indexOf('\n');
  if (newline < 0) throw new SegmentDocumentError('no header line: expected {"format":"json","version":1} and a newline first');
  let header: unknown;
  let document: unknown;
  try {
    header = JSON.parse(text.slice(0, newline));
    document = JSON.parse(text.slice(newline + 1));
  } catch (error) {
    throw new SegmentDocumentError(`not JSON: ${(error as Error).message}`);
  }
  if ((header as { format?: unknown } | null)?.format !== 'json') throw new SegmentDocumentError('header format must be "json"');
  checkDocument(document);
  return document;
}

function checkDocument(document: unknown): asserts document is SegmentDocument {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new SegmentDocumentError('document must be a JSON object');
  const fields = document as Record<string, unknown>;
  if (typeof fields['trace_id'] !== 'string' || !ROOT.test(fields['trace_id'])) throw new SegmentDocumentError('trace_id must look like 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx');
  if (typeof fields['id'] !== 'string' || !SEGMENT_ID.test(fields['id'])) throw new SegmentDocumentError('id must be 16 hex digits');
  if (typeof fields['name'] !== 'string' || fields['name'] === '') throw new SegmentDocumentError('name is required');
  if (typeof fields['start_time'] !== 'number') throw new SegmentDocumentError('start_time must be epoch seconds');
  if (typeof fields['end_time'] !== 'number' && fields['in_progress'] !== true) throw new SegmentDocumentError('end_time or in_progress: true is required');
  if (fields['type'] === 'subsegment' && (typeof fields['parent_id'] !== 'string' || !SEGMENT_ID.test(fields['parent_id']))) {
    throw new SegmentDocumentError('a subsegment sent on its own needs parent_id');
  }
}
