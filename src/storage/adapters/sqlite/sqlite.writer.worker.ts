/**
 * The SQLite state store's background writer (see `backgroundWrites` in sqlite.state-store.ts): its own
 * connection to the store's file, on its own thread, so a stream of small loss-tolerant writes never holds
 * the serving thread. Each message is a list of statements; each statement commits on its own, in order.
 * Commits skip the fsync (`synchronous = NORMAL`): in WAL mode they stay atomic and the file consistent,
 * and a power loss (not a crash of the process) may drop the last of them (decision 0012).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

type Job = { id: number; queries: { sql: string; parameters: unknown[] }[] };
type Init = { file: string; busyTimeoutMs: number };

const init = workerData as Init;
const db = new Database(init.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma(`busy_timeout = ${init.busyTimeoutMs}`);
db.pragma('foreign_keys = ON');
// As on the main connection: bytes of replaced rows are overwritten (an erased pseudonym leaves no trace).
db.pragma('secure_delete = ON');

const statements = new Map<string, Database.Statement>();
function statement(text: string): Database.Statement {
  let s = statements.get(text);
  if (s === undefined) {
    s = db.prepare(text);
    if (statements.size >= 100) statements.delete(statements.keys().next().value!);
    statements.set(text, s);
  }
  return s;
}

parentPort!.on('message', (job: Job | 'close') => {
  if (job === 'close') {
    db.close();
    parentPort!.close();
    return;
  }
  try {
    for (const q of job.queries) statement(q.sql).run(...q.parameters);
    parentPort!.postMessage({ id: job.id, ok: true });
  } catch (e) {
    parentPort!.postMessage({ id: job.id, ok: false, message: (e as Error).message });
  }
});
