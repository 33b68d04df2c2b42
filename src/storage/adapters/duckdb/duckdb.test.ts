import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEventStoreContract } from '../../contract/event-store.contract.ts';
import { makeEvent } from '../../contract/event-store.contract.ts';
import { makeTempDir } from '../../testing.ts';
import type { EventRecord } from '../../ports.ts';
import { openDuckDbEventStore } from './duckdb.event-store.ts';
import { rowsJson } from './event-rows.ts';

describeEventStoreContract('duckdb', async () => {
  const dir = makeTempDir('candor-duckdb');
  const file = path.join(dir.path, 'events.duckdb');
  const store = await openDuckDbEventStore({ file });
  return {
    store,
    // Every file beside the database (its WAL, the journal's segments).
    files: () => readdirSync(dir.path).map((name) => path.join(dir.path, name)),
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
});

const storeModule = fileURLToPath(new URL('./duckdb.event-store.ts', import.meta.url));

/** Starts another process that opens the event store and holds it until killed. */
function holdInChild(file: string): Promise<{ kill(): Promise<void> }> {
  const script = `
    const { openDuckDbEventStore } = await import(${JSON.stringify(storeModule)});
    await openDuckDbEventStore({ file: ${JSON.stringify(file)} });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        resolve({
          kill: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
}

const eventModule = fileURLToPath(new URL('../../contract/event-store.contract.ts', import.meta.url));

/**
 * Runs `body` in another process that opened the store at `file` as `s` (with `makeEvent` in scope),
 * waits for the first line it writes, then kills it with SIGKILL, the store still open. Returns the line.
 */
async function killAfterReport(file: string, body: string): Promise<string> {
  const script = `
    const { openDuckDbEventStore } = await import(${JSON.stringify(storeModule)});
    const { makeEvent } = await import(${JSON.stringify(eventModule)});
    const s = await openDuckDbEventStore({ file: ${JSON.stringify(file)} });
    ${body}
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => resolve(d.toString()));
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  await new Promise<void>((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
  return line;
}

describe('DuckDB appends (rows handed over as JSON)', () => {
  it('stores text exactly (quotes, backslashes, NUL, emoji), truncates times and integers, and replaces a lone surrogate', async () => {
    const dir = makeTempDir('candor-duckdb-text');
    const store = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    try {
      const tricky = 'a "quoted" \\ back\u0000slash 日本 😀 \\ud800 as text';
      const base = makeEvent(1);
      await store.append([
        makeEvent(1, {
          path: tricky,
          query: '\ud800lone',
          props: JSON.stringify({ q: '\udc00' }),
          ts: base.ts + 0.9,
          quantity: 2.7,
          revenue: 12.5,
        }),
      ]);
      const [stored] = await store.eventsOfSubjects([base.subjectId]);
      expect(stored).toMatchObject({
        path: tricky,
        query: '\ufffdlone',
        props: JSON.stringify({ q: '\udc00' }),
        ts: base.ts,
        quantity: 2,
        revenue: 12.5,
      });
      // Accepted events take the journal's bytes into the table: the same text, in batches joined into one
      // statement (an empty batch among them adds nothing).
      const other = makeEvent(2, { subjectId: 'subject-accepted' });
      await store.accept([makeEvent(3, { subjectId: 'subject-accepted', path: 'ascii' })]);
      await store.accept([]);
      await store.accept([
        { ...other, path: tricky, query: '\ud800lone', props: JSON.stringify({ q: '中文' }) },
      ]);
      const accepted = await store.eventsOfSubjects(['subject-accepted']);
      expect(accepted.map((e) => e.path).sort()).toEqual(['ascii', tricky].sort());
      expect(accepted.find((e) => e.path === tricky)).toMatchObject({
        query: '\ufffdlone',
        props: JSON.stringify({ q: '中文' }),
      });
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('keeps every digit of a double, appended or accepted (values travel as JSON text)', async () => {
    const dir = makeTempDir('candor-duckdb-doubles');
    const store = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    try {
      const revenues = [0.30000000000000004, 1 / 3, 123456789.12345679, 1e21, 5e-324, -19.99];
      await store.append(revenues.map((revenue, i) => makeEvent(i, { subjectId: 'appended', revenue })));
      await store.accept(
        revenues.map((revenue, i) => makeEvent(100 + i, { subjectId: 'accepted', revenue })),
      );
      for (const subject of ['appended', 'accepted']) {
        const stored = await store.eventsOfSubjects([subject]);
        expect(stored.map((e) => e.revenue)).toEqual(revenues);
      }
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('writes a large append (several statements) in one transaction, and dedupes it on a retry', async () => {
    const dir = makeTempDir('candor-duckdb-large');
    const store = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    try {
      const events = Array.from({ length: 25_000 }, (_, i) => makeEvent(i));
      expect(await store.append(events)).toEqual({ inserted: 25_000, duplicates: 0 });
      expect(await store.append(events.slice(0, 12_000))).toEqual({ inserted: 0, duplicates: 12_000 });
      expect(await store.count()).toBe(25_000);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});

describe('DuckDB accepted events', () => {
  it('erases and deletes by age while accepted events wait for a lock the deletes hold', async () => {
    const dir = makeTempDir('candor-duckdb-accept-delete');
    const store = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
    try {
      const bulk = Array.from({ length: 30_000 }, (_, i) => makeEvent(i, { eventId: `bulk-${i}` }));
      const bulkOfSub1 = bulk.filter((e) => e.subjectId === 'sub-1').length;
      // The deletes queue behind the append; an event accepted meanwhile waits for the table behind them.
      const appending = store.append(bulk);
      const erasing = store.deleteSubjects(['sub-1']);
      const ageing = store.deleteOlderThan(bulk[0]!.ts);
      await store.accept([makeEvent(1, { eventId: 'late-1' })]);
      const [, erased, aged] = await Promise.all([appending, erasing, ageing]);
      expect(erased).toBe(bulkOfSub1);
      expect(aged).toBe(0);
      // Accepted after the erasure began: it is stored, and every later read sees it.
      expect((await store.eventsOfSubjects(['sub-1'])).map((e) => e.eventId)).toEqual(['late-1']);
      expect(await store.count()).toBe(bulk.length - bulkOfSub1 + 1);
    } finally {
      await store.close();
      dir.cleanup();
    }
  }, 15_000);
});

describe('DuckDB close', () => {
  it('waits for queries already running, and refuses later ones with an error', async () => {
    const dir = makeTempDir('candor-duckdb-close');
    try {
      const store = await openDuckDbEventStore({ file: path.join(dir.path, 'events.duckdb') });
      await store.append([makeEvent(1)]);
      // A query that runs for a while (a background job's read when the server stops).
      const running = sql<{ n: number }>`SELECT count(*) AS n FROM range(200000000) t(i) WHERE i % 7 = 0`
        .execute(store.db)
        .then(
          (r) => `answered ${Number(r.rows[0]!.n)}`,
          (e: unknown) => `refused: ${(e as Error).message}`,
        );
      await new Promise((r) => setTimeout(r, 50));
      const settled = (p: Promise<unknown>) =>
        Promise.race([p, new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000))]);
      expect(await settled(store.close().then(() => 'closed'))).toBe('closed');
      expect(await settled(running)).toBe('answered 28571429');
      await expect(store.count()).rejects.toThrow();
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});

describe('DuckDB event store ownership and durability', () => {
  it('refuses a file another process owns, with a message that says what to do, and opens once it is gone', async () => {
    const dir = makeTempDir('candor-duckdb-lock');
    const file = path.join(dir.path, 'events.duckdb');
    try {
      const holder = await holdInChild(file);
      try {
        const error = await openDuckDbEventStore({ file }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'store_locked' });
        expect((error as Error).message).toContain(`Another Candor process owns ${dir.path}`);
        expect((error as Error).message).toContain(
          'Stop it, or run this command against the running server.',
        );
      } finally {
        await holder.kill();
      }
      const store = await openDuckDbEventStore({ file });
      expect(await store.count()).toBe(0);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });

  it('refuses to open the same file twice in one process', async () => {
    const dir = makeTempDir('candor-duckdb-twice');
    const file = path.join(dir.path, 'events.duckdb');
    const store = await openDuckDbEventStore({ file });
    try {
      await expect(openDuckDbEventStore({ file })).rejects.toMatchObject({ code: 'store_locked' });
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('keeps appended events after the writing process is killed', async () => {
    const dir = makeTempDir('candor-duckdb-kill');
    const file = path.join(dir.path, 'events.duckdb');
    try {
      // The child appends, reports, and is then killed without closing the store.
      const line = await killAfterReport(
        file,
        `const r = await s.append(Array.from({ length: 1000 }, (_, i) => makeEvent(i)));
         process.stdout.write(JSON.stringify(r) + '\\n');`,
      );
      expect(JSON.parse(line)).toEqual({ inserted: 1000, duplicates: 0 });
      const store = await openDuckDbEventStore({ file });
      expect(await store.count()).toBe(1000);
      expect(await store.eventsOfSubjects(['sub-3'], 1)).toEqual([makeEvent(3)]);
      await store.close();
    } finally {
      dir.cleanup();
    }
  });

  it('keeps accepted events after the accepting process is killed, and stores them at the next open', async () => {
    const dir = makeTempDir('candor-duckdb-accept-kill');
    const file = path.join(dir.path, 'events.duckdb');
    try {
      // The child accepts (journal only: the table gets them later), reports, and is killed at once.
      await killAfterReport(
        file,
        `await s.append(Array.from({ length: 10 }, (_, i) => makeEvent(i)));
         await s.accept(Array.from({ length: 1000 }, (_, i) => makeEvent(i)));
         await s.accept(Array.from({ length: 500 }, (_, i) => makeEvent(1000 + i)));
         process.stdout.write('accepted\\n');`,
      );
      const store = await openDuckDbEventStore({ file });
      try {
        expect(await store.count()).toBe(1500);
        expect(await store.eventsOfSubjects(['sub-3'], 1)).toEqual([makeEvent(3)]);
        // Stored, so the previous process's journal files are gone; this one's is empty.
        const journals = readdirSync(dir.path).filter((n) => n.includes('.journal.'));
        expect(journals).toHaveLength(1);
      } finally {
        await store.close();
      }
      expect(readdirSync(dir.path).filter((n) => n.includes('.journal.'))).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  it('stores the complete records of a journal whose last write was cut short, and ignores the rest', async () => {
    const dir = makeTempDir('candor-duckdb-torn');
    const file = path.join(dir.path, 'events.duckdb');
    try {
      // Records of row objects, as journals written before positional rows hold them, and one of
      // positional rows (event-rows.ts): both are read.
      const record = (events: unknown[], positional = false) => {
        const body = positional ? rowsJson(events as EventRecord[]) : Buffer.from(JSON.stringify(events));
        const head = Buffer.alloc(8);
        head.writeUInt32LE(body.length, 0);
        head.writeUInt32LE(crc32(body), 4);
        return Buffer.concat([head, body]);
      };
      const whole = record([makeEvent(1), makeEvent(2)]);
      const damaged = record([makeEvent(3)]);
      damaged.writeUInt8(damaged.readUInt8(damaged.length - 2) ^ 0xff, damaged.length - 2); // its checksum no longer matches
      const torn = record([makeEvent(4)]).subarray(0, 20); // a write cut short
      writeFileSync(`${file}.journal.3`, Buffer.concat([whole, damaged, record([makeEvent(5)])]));
      writeFileSync(`${file}.journal.4`, Buffer.concat([record([makeEvent(6)], true), torn]));
      const store = await openDuckDbEventStore({ file });
      try {
        const ids = (
          await store.eventsOfSubjects(['sub-1', 'sub-2', 'sub-3', 'sub-4', 'sub-5', 'sub-6'])
        ).map((e) => e.eventId);
        // A damaged record ends its segment: what follows it in that segment is not trusted either.
        expect(ids.sort()).toEqual(['evt-1', 'evt-2', 'evt-6']);
        expect(readdirSync(dir.path).filter((n) => n.includes('.journal.'))).toEqual([
          'events.duckdb.journal.5',
        ]);
      } finally {
        await store.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
