// `npm run bench -- duckdb-insert [--rows 200000] [--runs 5]`
// What one event costs to get into the DuckDB events table, by the form the rows travel in: the JSON array
// of positional rows that the event store's journal holds and its INSERT decodes (event-rows.ts), the same
// rows as JSON objects (the form before: about 60% more bytes), the object JSON written to a file and read
// with read_json, DuckDB's appender called once per value, and — as the floor — a copy from a table already
// in DuckDB. For each: the JavaScript thread's time to build what is handed over, and DuckDB's time to insert
// it (wall and process CPU), per 1,000 events; medians of --runs runs, each into a fresh database file.
// Rows have the shape of accepted tracking events (hex pseudonyms, UUID ids, a product view's properties).
// Records bench/results/duckdb-insert.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import {
  DuckDBBlobValue,
  DuckDBInstance,
  DuckDBTimestampValue,
  type DuckDBConnection,
} from '@duckdb/node-api';
import { rowsJson, SELECT_JSON_ROWS } from '../src/storage/adapters/duckdb/event-rows.ts';
import { EVENT_COLUMNS } from '../src/storage/event-columns.ts';
import type { EventRecord } from '../src/storage/ports.ts';
import { median, numberArg, printTable, recordResult } from './support.ts';

const ROWS = numberArg('rows', 200_000);
const RUNS = numberArg('runs', 5);
// The event store's statement size (ROWS_PER_STATEMENT) and the journal's record size (one request).
const PER_STATEMENT = 10_000;
const PER_RECORD = 100;

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const now = Date.now();
const rows: EventRecord[] = Array.from({ length: ROWS }, (_, n) => ({
  eventId: randomUUID(),
  sourceId: 'src_01JD8Y3ZQ5M0K7',
  subjectId: hex(`subject-${n % 1000}`),
  anonymousId: hex(`device-${n % 1000}`).slice(0, 40),
  userId: null,
  sessionId: null,
  type: n % 4 === 0 ? 'page_view' : 'product_viewed',
  purpose: 'analytics',
  consentId: randomUUID(),
  ts: now - n,
  receivedAt: now,
  path: `/p/${n % 3000}`,
  referrer: 'https://www.google.com/',
  productId: n % 4 === 0 ? null : `p${String(n % 3000).padStart(6, '0')}`,
  category: null,
  query: null,
  orderId: null,
  revenue: null,
  currency: n % 4 === 0 ? null : 'IDR',
  quantity: n % 4 === 0 ? null : 1,
  deviceClass: 'mobile',
  country: null,
  region: null,
  utmSource: null,
  props: n % 4 === 0 ? '{}' : '{"price":129900,"currency":"IDR","quantity":1}',
}));

const JSON_TYPE = { text: 'VARCHAR', ts: 'DOUBLE', double: 'DOUBLE', integer: 'DOUBLE' } as const;
const SQL_TYPE = { text: 'VARCHAR', ts: 'TIMESTAMP', double: 'DOUBLE', integer: 'INTEGER' } as const;
const CREATE = `CREATE TABLE events (${EVENT_COLUMNS.map((c) => `${c.column} ${SQL_TYPE[c.kind]}`).join(', ')})`;
const cast = (kind: (typeof EVENT_COLUMNS)[number]['kind'], f: string) =>
  kind === 'ts' ? `epoch_ms(trunc(${f})::BIGINT)` : kind === 'integer' ? `trunc(${f})::INTEGER` : f;
// As the event store read row objects before positional rows.
const OBJECT_STRUCTURE = JSON.stringify([
  Object.fromEntries(EVENT_COLUMNS.map((c) => [c.field, JSON_TYPE[c.kind]])),
]);
const FROM_OBJECTS = `INSERT INTO events SELECT ${EVENT_COLUMNS.map((c) => `${cast(c.kind, `r."${c.field}"`)}`).join(', ')}
  FROM (SELECT unnest(from_json(decode($1::BLOB), '${OBJECT_STRUCTURE}')) AS r)`;
const FROM_POSITIONAL = `INSERT INTO events ${SELECT_JSON_ROWS}`;
const READ_JSON_COLUMNS = `{${EVENT_COLUMNS.map((c) => `${c.field}: '${JSON_TYPE[c.kind]}'`).join(', ')}}`;
const fromFile = (file: string) =>
  `INSERT INTO events SELECT ${EVENT_COLUMNS.map((c) => cast(c.kind, `"${c.field}"`)).join(', ')}
   FROM read_json('${file}', format = 'array', columns = ${READ_JSON_COLUMNS})`;

/** Journal records (one JSON array per request) joined into statements, as the store's jsonInserts does. */
function statements(records: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  const perStatement = PER_STATEMENT / PER_RECORD;
  for (let i = 0; i < records.length; i += perStatement) {
    const parts: Buffer[] = [];
    for (const r of records.slice(i, i + perStatement)) {
      if (parts.length > 0) parts.push(Buffer.from(','));
      parts.push(r.subarray(1, -1));
    }
    out.push(Buffer.concat([Buffer.from('['), ...parts, Buffer.from(']')]));
  }
  return out;
}

function objectRecords(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < ROWS; i += PER_RECORD)
    out.push(Buffer.from(JSON.stringify(rows.slice(i, i + PER_RECORD))));
  return out;
}

function positionalRecords(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < ROWS; i += PER_RECORD) out.push(rowsJson(rows.slice(i, i + PER_RECORD)));
  return out;
}

type Variant = {
  name: string;
  /** Builds what is handed to DuckDB, on the JavaScript thread. */
  prepare(dir: string): unknown;
  /** Inserts it. */
  insert(conn: DuckDBConnection, prepared: unknown, dir: string): Promise<void>;
  bytesPerRow?: (prepared: unknown) => number;
};

const totalBytes = (bs: unknown) => (bs as Buffer[]).reduce((n, b) => n + b.length, 0) / ROWS;

const variants: Variant[] = [
  {
    name: 'positional JSON arrays, from_json (the event store)',
    prepare: () => statements(positionalRecords()),
    async insert(conn, prepared) {
      for (const b of prepared as Buffer[]) await conn.run(FROM_POSITIONAL, [new DuckDBBlobValue(b)]);
    },
    bytesPerRow: totalBytes,
  },
  {
    name: 'object JSON, from_json (the form before)',
    prepare: () => statements(objectRecords()),
    async insert(conn, prepared) {
      for (const b of prepared as Buffer[]) await conn.run(FROM_OBJECTS, [new DuckDBBlobValue(b)]);
    },
    bytesPerRow: totalBytes,
  },
  {
    name: 'object JSON in a file, read_json',
    prepare: (dir) =>
      statements(objectRecords()).map((b, i) => {
        const file = path.join(dir, `statement-${i}.json`);
        writeFileSync(file, b);
        return file;
      }),
    async insert(conn, prepared) {
      for (const file of prepared as string[]) await conn.run(fromFile(file));
    },
  },
  {
    name: 'appender, one call per value (all on the JS thread)',
    prepare: () => null,
    async insert(conn) {
      for (let i = 0; i < ROWS; i += PER_STATEMENT) {
        const ap = await conn.createAppender('events');
        for (const e of rows.slice(i, i + PER_STATEMENT)) {
          for (const c of EVENT_COLUMNS) {
            const v = e[c.field];
            if (v === null) ap.appendNull();
            else if (c.kind === 'text') ap.appendVarchar(v as string);
            else if (c.kind === 'ts') ap.appendTimestamp(new DuckDBTimestampValue(BigInt(v) * 1000n));
            else if (c.kind === 'integer') ap.appendInteger(Math.trunc(v as number));
            else ap.appendDouble(v as number);
          }
          ap.endRow();
        }
        ap.flushSync();
        ap.closeSync();
      }
    },
  },
  {
    name: 'copy from a DuckDB table (floor: storage only)',
    prepare: () => null,
    async insert(conn) {
      await conn.run('INSERT INTO events SELECT * FROM staged');
    },
  },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'candor-bench-duckdb-insert-'));
const samples = new Map<string, { js: number[]; wall: number[]; cpu: number[]; bytes: number }>();
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [i, v] of variants.entries()) {
      const runDir = mkdtempSync(path.join(dir, `r${run}v${i}-`));
      const instance = await DuckDBInstance.create(path.join(runDir, 'events.duckdb'));
      const conn = await instance.connect();
      await conn.run(CREATE);
      if (v.name.startsWith('copy')) {
        await conn.run(`CREATE TEMP TABLE staged AS SELECT * FROM events LIMIT 0`);
        for (const b of statements(objectRecords()))
          await conn.run(FROM_OBJECTS.replace('INSERT INTO events', 'INSERT INTO staged'), [
            new DuckDBBlobValue(b),
          ]);
      }
      const t0 = performance.now();
      const prepared = v.prepare(runDir);
      const js = performance.now() - t0;
      const c0 = process.cpuUsage();
      const t1 = performance.now();
      await v.insert(conn, prepared, runDir);
      await conn.run('CHECKPOINT');
      const wall = performance.now() - t1;
      const cpu = process.cpuUsage(c0);
      instance.closeSync();
      rmSync(runDir, { recursive: true, force: true });
      const s = samples.get(v.name) ?? { js: [], wall: [], cpu: [], bytes: 0 };
      s.js.push((js / ROWS) * 1000);
      s.wall.push((wall / ROWS) * 1000);
      s.cpu.push(((cpu.user + cpu.system) / 1000 / ROWS) * 1000);
      s.bytes = v.bytesPerRow ? v.bytesPerRow(prepared) : 0;
      samples.set(v.name, s);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const round = (x: number) => Math.round(x * 100) / 100;
const results = [...samples].map(([name, s]) => ({
  variant: name,
  'JS ms/1k (median)': round(median(s.js)),
  'insert wall ms/1k (median)': round(median(s.wall)),
  'insert CPU ms/1k (median)': round(median(s.cpu)),
  'insert wall ms/1k (runs)': s.wall.map(round).join(' / '),
  'bytes/row': s.bytes > 0 ? Math.round(s.bytes) : '',
}));
printTable(results);
console.log(
  `recorded ${recordResult('duckdb-insert', { settings: { rows: ROWS, runs: RUNS, perStatement: PER_STATEMENT, perRecord: PER_RECORD }, results })}`,
);
