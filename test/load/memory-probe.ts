/**
 * Loaded into every Candor process of the soak with `node --expose-gc --import <this file>` (through
 * NODE_OPTIONS, so the server code is the code shops run). Every CANDOR_SOAK_PROBE_MS it records the
 * process's memory twice, as found and right after a forced memory-reducing full collection, as one JSON
 * line in `<CANDOR_SOAK_PROBE_DIR>/<pid>.jsonl`:
 *
 *   {"at": epoch ms, "gcMs": ms, "before": process.memoryUsage(), "after": process.memoryUsage()}
 *
 * The collection is V8's "last resort" one (what it runs on a low-memory notification): besides freeing
 * garbage it compacts and hands the emptied pages back to the OS at once. A plain `gc()` frees the objects
 * but keeps their pages pooled, so RSS stays where it was (measured with `node --expose-gc` on 24 MB of live
 * objects: RSS 324 MB after `gc()`, 83 MB after the last-resort collection). So `after.heapUsed` is the live
 * JavaScript heap (what a leak of objects grows) and `after.rss` the floor of the process's memory (what a
 * leak of native memory or Buffers grows); RSS as found mostly says where V8 is in its own cycle.
 *
 * With CANDOR_SOAK_PLANT_LEAK_KB_PER_S set (only by `soak.ts --plant-leak`), the process also keeps that many
 * KiB of small objects per second reachable forever: a deliberate leak that proves the soak's check fails.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

const dir = process.env.CANDOR_SOAK_PROBE_DIR;
const everyMs = Number(process.env.CANDOR_SOAK_PROBE_MS ?? '60000');
const leakKbPerS = Number(process.env.CANDOR_SOAK_PLANT_LEAK_KB_PER_S ?? '0');
const gc = (globalThis as { gc?: Gc }).gc;

if (dir && gc) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  const probe = () => {
    const before = process.memoryUsage();
    const t0 = performance.now();
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    const gcMs = Math.round(performance.now() - t0);
    const after = process.memoryUsage();
    appendFileSync(file, JSON.stringify({ at: Date.now(), gcMs, before, after }) + '\n');
  };
  // The collection stops the process while it runs (a few hundred ms; seconds on a starved machine). A
  // random phase per process keeps the API processes from pausing together, so the load balancer's other
  // process still answers meanwhile. Timers are unref'd: a short-lived CLI command still exits when done.
  const start = setTimeout(
    () => {
      probe();
      setInterval(probe, everyMs).unref();
    },
    Math.floor(Math.random() * everyMs),
  );
  start.unref();
}

if (leakKbPerS > 0) {
  // About 100 bytes of heap per entry (a string and an array slot): the shape of a cache that never evicts.
  const kept: string[] = [];
  (globalThis as { plantedLeak?: string[] }).plantedLeak = kept;
  const perTick = Math.max(1, Math.round((leakKbPerS * 1024) / 100 / 10));
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) kept.push(`leaked-${kept.length}-${Math.random()}`.padEnd(64, '.'));
  }, 100);
  timer.unref();
}
