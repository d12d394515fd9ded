import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** A queued record: when it was published (ms since the epoch) and its JSON text. */
export interface SpoolEntry {
  readonly time: number;
  readonly data: string;
}

/** How many records and bytes an operation dropped. */
export interface Dropped {
  readonly records: number;
  readonly bytes: number;
}

/** Options of {@link DiskSpool}. */
export interface DiskSpoolOptions {
  /** Bound on the bytes on disk; the oldest segments are dropped beyond it. */
  readonly maxBytes: number;
  /** Size at which a segment is closed and a new one started. Default maxBytes/4, 4 KiB..1 MiB. */
  readonly segmentBytes?: number | undefined;
}

interface Segment {
  readonly id: number;
  records: number;
  bytes: number;
  newest: number;
  /** Entries not taken yet, once the segment is read for delivery. */
  loaded?: { entries: SpoolEntry[]; sizes: number[]; index: number };
}

const SUFFIX = '.seg';
// Segment ids start high so that records put back at shutdown can go in a segment before the head.
const FIRST_ID = 1_000_000_000_000;

/**
 * An ordered, bounded queue of records on disk: a directory of segment files of JSON lines
 * (`[time, data]`), appended at the tail and read from the head. It survives restarts (the
 * segments are read back on open). File I/O is synchronous on purpose: it only runs while a
 * receiver is away and memory is full, keeps ordering trivial, and writes in batches.
 */
export class DiskSpool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #segments: Segment[] = [];
  #tailFd: number | undefined;
  #records = 0;
  #bytes = 0;

  constructor(dir: string, options: DiskSpoolOptions) {
    this.#dir = dir;
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes =
      options.segmentBytes ?? Math.min(1_048_576, Math.max(4096, Math.floor(options.maxBytes / 4)));
    mkdirSync(dir, { recursive: true });
    this.#recover();
  }

  /** Records on disk not taken yet. */
  get records(): number {
    return this.#records;
  }

  /** Bytes of those records on disk. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends records after every record held; drops the oldest segments beyond `maxBytes`. */
  append(entries: readonly SpoolEntry[]): Dropped {
    if (entries.length === 0) return { records: 0, bytes: 0 };
    let chunk = '';
    let chunkRecords = 0;
    let tail = this.#openTail();
    for (const entry of entries) {
      const line = `${JSON.stringify([entry.time, entry.data])}\n`;
      const size = Buffer.byteLength(line);
      if (tail.bytes > 0 && tail.bytes + size > this.#segmentBytes) {
        this.#write(chunk);
        chunk = '';
        chunkRecords = 0;
        tail = this.#rotate();
      }
      chunk += line;
      chunkRecords += 1;
      tail.records += 1;
      tail.bytes += size;
      tail.newest = Math.max(tail.newest, entry.time);
      this.#records += 1;
      this.#bytes += size;
    }
    if (chunkRecords > 0) this.#write(chunk);
    return this.#enforceLimit();
  }

  /** Puts records back before every record held (records taken but not delivered at shutdown). */
  prepend(entries: readonly SpoolEntry[]): void {
    if (entries.length === 0) return;
    const id = (this.#segments[0]?.id ?? FIRST_ID) - 1;
    const lines = entries.map((e) => `${JSON.stringify([e.time, e.data])}\n`).join('');
    writeFileSync(this.#path(id), lines);
    const bytes = Buffer.byteLength(lines);
    const newest = Math.max(...entries.map((e) => e.time));
    this.#segments.unshift({ id, records: entries.length, bytes, newest });
    this.#records += entries.length;
    this.#bytes += bytes;
  }

  /** Removes and returns up to `maxRecords` of the oldest records, at most about `maxBytes`. */
  take(maxRecords: number, maxBytes: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    let bytes = 0;
    while (out.length < maxRecords && bytes < maxBytes) {
      const head = this.#segments[0];
      if (!head) break;
      const loaded = head.loaded ?? this.#load(head);
      const entry = loaded.entries[loaded.index];
      if (entry === undefined) {
        this.#dropHead();
        continue;
      }
      const size = loaded.sizes[loaded.index] ?? 0;
      loaded.index += 1;
      head.records -= 1;
      head.bytes -= size;
      this.#records -= 1;
      this.#bytes -= size;
      bytes += size;
      out.push(entry);
    }
    return out;
  }

  /** Drops whole segments whose records are all older than `cutoff` (ms since the epoch). */
  dropOlderThan(cutoff: number): Dropped {
    let records = 0;
    let bytes = 0;
    while (this.#segments.length > 0 && this.#segments[0]!.newest < cutoff) {
      const head = this.#segments[0]!;
      records += head.records;
      bytes += head.bytes;
      this.#dropHead();
    }
    return { records, bytes };
  }

  /**
   * Closes the tail file. A head segment that was partly delivered is rewritten with what is
   * left, so that a restart does not send those records again.
   */
  close(): void {
    this.#closeTail();
    // Records put back at shutdown go before the head, so the partly read one may be second.
    for (const segment of this.#segments) {
      if (!segment.loaded || segment.loaded.index === 0) continue;
      const rest = segment.loaded.entries.slice(segment.loaded.index);
      const path = this.#path(segment.id);
      writeFileSync(
        `${path}.tmp`,
        rest.map((e) => `${JSON.stringify([e.time, e.data])}\n`).join(''),
      );
      renameSync(`${path}.tmp`, path);
      delete segment.loaded;
    }
  }

  /** Deletes every record and the directory. */
  destroy(): void {
    this.#closeTail();
    this.#segments.length = 0;
    this.#records = 0;
    this.#bytes = 0;
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #recover(): void {
    const ids = readdirSync(this.#dir)
      .filter((f) => f.endsWith(SUFFIX) && /^\d+$/.test(f.slice(0, -SUFFIX.length)))
      .map((f) => Number(f.slice(0, -SUFFIX.length)))
      .sort((a, b) => a - b);
    for (const id of ids) {
      const segment: Segment = { id, records: 0, bytes: 0, newest: 0 };
      const loaded = this.#load(segment);
      if (loaded.entries.length === 0) {
        unlinkSync(this.#path(id));
        continue;
      }
      segment.records = loaded.entries.length;
      segment.bytes = loaded.sizes.reduce((a, b) => a + b, 0);
      segment.newest = Math.max(...loaded.entries.map((e) => e.time));
      // Only the head stays loaded; the others are read again when they reach the head.
      delete segment.loaded;
      this.#segments.push(segment);
      this.#records += segment.records;
      this.#bytes += segment.bytes;
    }
  }

  #load(segment: Segment): NonNullable<Segment['loaded']> {
    // The segment being appended to is closed first: new records go to a new segment.
    if (segment === this.#segments.at(-1)) this.#closeTail();
    const entries: SpoolEntry[] = [];
    const sizes: number[] = [];
    let text = '';
    try {
      text = readFileSync(this.#path(segment.id), 'utf8');
    } catch {
      // A missing segment is an empty one.
    }
    for (const line of text.split('\n')) {
      const entry = parseLine(line);
      if (!entry) continue;
      entries.push(entry);
      sizes.push(Buffer.byteLength(line) + 1);
    }
    segment.loaded = { entries, sizes, index: 0 };
    return segment.loaded;
  }

  #openTail(): Segment {
    const tail = this.#segments.at(-1);
    if (tail && this.#tailFd !== undefined) return tail;
    return this.#rotate();
  }

  #rotate(): Segment {
    this.#closeTail();
    const id = Math.max(FIRST_ID, (this.#segments.at(-1)?.id ?? FIRST_ID - 1) + 1);
    this.#tailFd = openSync(this.#path(id), 'a');
    const segment: Segment = { id, records: 0, bytes: 0, newest: 0 };
    this.#segments.push(segment);
    return segment;
  }

  #write(text: string): void {
    if (this.#tailFd === undefined || text === '') return;
    writeSync(this.#tailFd, text);
  }

  #closeTail(): void {
    if (this.#tailFd === undefined) return;
    closeSync(this.#tailFd);
    this.#tailFd = undefined;
  }

  #enforceLimit(): Dropped {
    let records = 0;
    let bytes = 0;
    while (this.#bytes > this.#maxBytes && this.#segments.length > 0) {
      const head = this.#segments[0]!;
      records += head.records;
      bytes += head.bytes;
      this.#dropHead();
    }
    return { records, bytes };
  }

  #dropHead(): void {
    const head = this.#segments.shift();
    if (!head) return;
    if (this.#segments.length === 0) this.#closeTail();
    this.#records -= head.records;
    this.#bytes -= head.bytes;
    rmSync(this.#path(head.id), { force: true });
  }

  #path(id: number): string {
    return join(this.#dir, `${id}${SUFFIX}`);
  }
}

function parseLine(line: string): SpoolEntry | undefined {
  if (line === '') return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { time: value[0], data: value[1] };
    }
  } catch {
    // A line cut short by a crash: skip it.
  }
  return undefined;
}
