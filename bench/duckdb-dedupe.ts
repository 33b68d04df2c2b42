// Why the DuckDB event store has no PRIMARY KEY (docs/decisions/0004): bulk appends of 300,000 rows in
// batches of 10,000 into a narrow table with no key, with a PRIMARY KEY + ON CONFLICT DO NOTHING, and with the
// time-bounded anti-join the event store uses, in one run on one machine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { printTable, recordResult } from './support.ts';

const ROWS = 300_000;
const BATCH = 10_000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'candor-bench-dedupe-'));
const variants = [
  {
    name: 'no key (plain INSERT)',
    ddl: 'CREATE TABLE t (id VARCHAR, ts BIGINT, a VARCHAR, p VARCHAR)',
    insert: 'INSERT INTO t SELECT * FROM s',
  },
  {
    name: 'PRIMARY KEY + ON CONFLICT DO NOTHING',
    ddl: 'CREATE TABLE t (id VARCHAR PRIMARY KEY, ts BIGINT, a VARCHAR, p VARCHAR)',
    insert: 'INSERT INTO t SELECT * FROM s ON CONFLICT DO NOTHING',
  },
  {
    name: 'anti-join over the batch time window',
    ddl: 'CREATE TABLE t (id VARCHAR, ts BIGINT, a VARCHAR, p VARCHAR)',
    insert:
      'INSERT INTO t SELECT * FROM s WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.ts BETWEEN $lo AND $hi AND t.id = s.id)',
  },
];
const rows: Record<string, string | number>[] = [];
for (const [i, v] of variants.entries()) {
  const instance = await DuckDBInstance.create(path.join(dir, `v${i}.duckdb`));
  const c = await instance.connect();
  await c.run(v.ddl);
  await c.run('CREATE TEMP TABLE s AS SELECT * FROM t LIMIT 0');
  let n = 0;
  const started = performance.now();
  for (let b = 0; b < ROWS / BATCH; b++) {
    const ap = await c.createAppender('s');
    const lo = n;
    for (let r = 0; r < BATCH; r++, n++) {
      ap.appendVarchar(`evt-${n}-${Math.random().toString(36).slice(2)}`);
      ap.appendBigInt(BigInt(n));
      ap.appendVarchar('product_view');
      ap.appendVarchar('{}');
      ap.endRow();
    }
    ap.flushSync();
    ap.closeSync();
    await c.run(v.insert.replace('$lo', String(lo - 1000)).replace('$hi', String(n + 1000)));
    await c.run('DELETE FROM s');
  }
  const seconds = (performance.now() - started) / 1000;
  rows.push({ variant: v.name, rows: ROWS, 'rows/s': Math.round(ROWS / seconds) });
  c.closeSync();
  instance.closeSync();
}
rmSync(dir, { recursive: true, force: true });
printTable(rows);
console.log(`recorded ${recordResult('duckdb-dedupe', { loadAverage: os.loadavg(), rows })}`);
