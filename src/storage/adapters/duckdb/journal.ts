/**
 * The event store's intake journal: accepted events are durable here first (an append and an fdatasync
 * of one record), and reach DuckDB's table afterwards. DuckDB stops every insert into a table while a
 * checkpoint rewrites that table, for hundreds of milliseconds each time its WAL fills
 * (docs/decisions/0013); with the journal, an acknowledgement waits for a file write only.
 *
 * Segment files `<file>.journal.<n>` next to the DuckDB file hold records of [length u32][crc32 u32]
 * [UTF-8 JSON]. The writer appends to one segment; `rotate` closes it and opens the next, and a closed
 * segment is deleted once everything in it is in DuckDB (so an erased subject's events do not stay
 * behind in a journal file). At open, every segment left by a crash is read back: a record whose length
 * or checksum does not match (a write cut short, never acknowledged) ends its segment.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER = 8;

export type Journal = {
  /**
   * Appends one record (UTF-8 JSON) and syncs it; `onDurable` runs once it is on disk, before any later record is
   * written or the segment rotates, so whatever it records is in step with the segment files.
   */
  write(body: Buffer, onDurable: () => void): Promise<void>;
  /**
   * Closes the current segment (if it holds records) and starts the next; `take` runs in between, so it
   * sees exactly the records of the segments closed so far. Returns the closed segment, or null.
   */
  rotate<T>(take: () => T): Promise<{ closed: string | null; taken: T }>;
  /** Deletes closed segments whose records are all stored, and makes the deletion durable. */
  remove(segments: readonly string[]): Promise<void>;
  /** Closes the writer and deletes its segment, which must hold nothing not yet stored. */
  close(): Promise<void>;
};

function segmentsOf(file: string): { path: string; n: number }[] {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.journal.`;
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ path: path.join(dir, name), n: Number(name.slice(prefix.length)) }))
    .sort((a, b) => a.n - b.n);
}

/** Makes creations and deletions in the directory durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The records of one segment, up to the first one that is incomplete or damaged. */
export function readSegment(file: string): string[] {
  const bytes = readFileSync(file);
  const out: string[] = [];
  for (let at = 0; at + HEADER <= bytes.length;) {
    const length = bytes.readUInt32LE(at);
    const sum = bytes.readUInt32LE(at + 4);
    const end = at + HEADER + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(at + HEADER, end);
    if (crc32(payload) !== sum) break;
    out.push(payload.toString('utf8'));
    at = end;
  }
  return out;
}

/** Segments a previous process left (oldest first) and their records. */
export function leftoverSegments(file: string): { path: string; records: string[] }[] {
  return segmentsOf(file).map((s) => ({ path: s.path, records: readSegment(s.path) }));
}

/** What the journal does with a segment file. */
export type SegmentFile = Pick<FileHandle, 'writev' | 'datasync' | 'truncate' | 'close'>;

export type JournalOptions = {
  /** Opens a segment for appending; tests substitute files that fail on purpose. */
  openSegment?: (segmentPath: string) => Promise<SegmentFile>;
};

export async function openJournal(file: string, options: JournalOptions = {}): Promise<Journal> {
  const dir = path.dirname(file);
  const openSegment = options.openSegment ?? ((p: string) => open(p, 'a'));
  let n = (segmentsOf(file).at(-1)?.n ?? 0) + 1;
  const pathOf = (k: number) => `${file}.journal.${k}`;
  // Segments are always new files: their size is what this process wrote.
  let current = { path: pathOf(n), handle: await openSegment(pathOf(n)), records: 0, size: 0 };
  /** Set when a failed write could not be taken back: nothing may follow it in the current segment. */
  let broken: Error | null = null;
  await syncDir(dir);
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };

  return {
    write(body, onDurable) {
      return exclusive(async () => {
        if (broken) throw broken;
        const header = Buffer.allocUnsafe(HEADER);
        header.writeUInt32LE(body.length, 0);
        header.writeUInt32LE(crc32(body), 4);
        const segment = current;
        try {
          // One write of both parts, without copying the body (a group's JSON, up to megabytes) into a third.
          const { bytesWritten } = await segment.handle.writev([header, body]);
          if (bytesWritten !== HEADER + body.length) {
            throw new Error(`wrote ${bytesWritten} of ${HEADER + body.length} bytes (is the disk full?)`);
          }
          await segment.handle.datasync();
        } catch (e) {
          // A record cut short ends its segment for recovery, which would hide every record written after
          // it: take its bytes back, or refuse every later write to this segment.
          await segment.handle.truncate(segment.size).catch(() => {
            broken = new Error(`a failed write could not be taken back: ${(e as Error).message}`);
          });
          throw e;
        }
        segment.size += HEADER + body.length;
        segment.records++;
        onDurable();
      });
    },
    rotate(take) {
      return exclusive(async () => {
        if (current.records === 0 && !broken) return { closed: null, taken: take() };
        const closed = current;
        n++;
        const handle = await openSegment(pathOf(n));
        current = { path: pathOf(n), handle, records: 0, size: 0 };
        broken = null;
        await closed.handle.close();
        return { closed: closed.path, taken: take() };
      });
    },
    async remove(segments) {
      if (segments.length === 0) return;
      await Promise.all(segments.map((s) => unlink(s)));
      await syncDir(dir);
    },
    close() {
      return exclusive(async () => {
        await current.handle.close();
        await unlink(current.path);
        await syncDir(dir);
      });
    },
  };
}
