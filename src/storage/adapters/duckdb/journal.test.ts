/**
 * The journal when a write fails part-way (a full disk, an I/O error): the bytes of the failed record are
 * taken back, so every record acknowledged after it is still found at recovery; if they cannot be taken
 * back, the segment takes no more writes until the next rotation.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../../testing.ts';
import { openJournal, readSegment, type SegmentFile } from './journal.ts';

type Faults = {
  /** The next writev writes only half its bytes, then fails. */
  tornWrite?: boolean;
  /** The next datasync fails (after the whole record was written). */
  failSync?: boolean;
  /** Every truncate fails. */
  failTruncate?: boolean;
};

/** A real segment file whose next operation can be made to fail, as a full disk would make it. */
async function faultyFile(p: string, faults: Faults): Promise<SegmentFile> {
  const real = await open(p, 'a');
  return {
    async writev(buffers: NodeJS.ArrayBufferView[]) {
      if (!faults.tornWrite) return real.writev(buffers);
      faults.tornWrite = false;
      const all = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
      await real.write(all.subarray(0, Math.floor(all.length / 2)));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
    async datasync() {
      if (faults.failSync) {
        faults.failSync = false;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      return real.datasync();
    },
    async truncate(len?: number) {
      if (faults.failTruncate) throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
      return real.truncate(len);
    },
    close: () => real.close(),
  } as SegmentFile;
}

const dirs: TempDir[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

async function setup(faults: Faults) {
  const dir = makeTempDir('candor-journal');
  dirs.push(dir);
  const file = path.join(dir.path, 'events.duckdb');
  const journal = await openJournal(file, { openSegment: (p) => faultyFile(p, faults) });
  const acknowledged: string[] = [];
  const write = async (text: string) => {
    await journal.write(Buffer.from(text), () => acknowledged.push(text));
  };
  return { file, journal, acknowledged, write, segment: (n: number) => `${file}.journal.${n}` };
}

describe('event journal, failed writes', () => {
  it('takes back a torn record, so the records acknowledged after it survive recovery', async () => {
    const faults: Faults = {};
    const j = await setup(faults);
    await j.write('["first"]');
    const sizeBefore = statSync(j.segment(1)).size;
    faults.tornWrite = true;
    await expect(j.write('["torn"]')).rejects.toThrow(/ENOSPC/);
    expect(statSync(j.segment(1)).size).toBe(sizeBefore);
    await j.write('["after"]');
    expect(j.acknowledged).toEqual(['["first"]', '["after"]']);
    expect(readSegment(j.segment(1))).toEqual(['["first"]', '["after"]']);
    await j.journal.close();
  });

  it('takes back a record whose sync failed: an unacknowledged record is not stored later', async () => {
    const faults: Faults = {};
    const j = await setup(faults);
    await j.write('["first"]');
    faults.failSync = true;
    await expect(j.write('["unsynced"]')).rejects.toThrow(/EIO/);
    await j.write('["after"]');
    expect(readSegment(j.segment(1))).toEqual(['["first"]', '["after"]']);
    await j.journal.close();
  });

  it('refuses further writes to a segment it could not repair, until the next rotation', async () => {
    const faults: Faults = { failTruncate: true };
    const j = await setup(faults);
    await j.write('["first"]');
    faults.tornWrite = true;
    await expect(j.write('["torn"]')).rejects.toThrow(/ENOSPC/);
    // Anything written behind the torn bytes would be hidden from recovery: refused, not acknowledged.
    await expect(j.write('["behind"]')).rejects.toThrow(/could not be taken back/);
    expect(j.acknowledged).toEqual(['["first"]']);
    const { closed } = await j.journal.rotate(() => null);
    expect(closed).toBe(j.segment(1));
    faults.failTruncate = false;
    await j.write('["next segment"]');
    expect(readSegment(j.segment(1))).toEqual(['["first"]']);
    expect(readSegment(j.segment(2))).toEqual(['["next segment"]']);
    expect(j.acknowledged).toEqual(['["first"]', '["next segment"]']);
    await j.journal.remove([j.segment(1)]);
    await j.journal.close();
  });
});
