// `npm run bench -- ingest-steps [--events 100000] [--runs 7]`
// The JavaScript thread's cost of each ingestion step per event, without HTTP, consent lookups or storage:
// the same messages `npm run bench -- ingest` posts (bench/support.ts), read from one JSON body per 100 as a
// request brings them, then validated, gated (consent granted), minimised, pseudonymised (through the
// pseudonym cache, as the service does), scrubbed, enriched, given their event id, and written as the
// event store's journal record (positional JSON rows, per 100). Ingestion's throughput on two cores is
// bounded by what each event costs this thread (issue 3); this shows where that cost is. Median µs per
// event of --runs runs over --events events. Records bench/results/ingest-steps.json.
import { randomBytes } from 'node:crypto';
import { createPseudonymizer } from '../src/kernel/crypto.ts';
import { consentGate } from '../src/modules/ingest/consent-gate.step.ts';
import { enrichEvent } from '../src/modules/ingest/enrich-event.step.ts';
import { eventIdOf } from '../src/modules/ingest/ingest.service.ts';
import { minimiseEvent } from '../src/modules/ingest/minimise-event.step.ts';
import { cachePseudonyms } from '../src/modules/ingest/pseudonym-cache.ts';
import { pseudonymiseEvent } from '../src/modules/ingest/pseudonymise-event.step.ts';
import { scrubEvent } from '../src/modules/ingest/scrub-event.step.ts';
import { validateEvent } from '../src/modules/ingest/validate-event.step.ts';
import { rowsJson } from '../src/storage/adapters/duckdb/event-rows.ts';
import type { EventRecord } from '../src/storage/ports.ts';
import { median, numberArg, printTable, recordResult, trackingMessage } from './support.ts';

const EVENTS = numberArg('events', 100_000);
const RUNS = numberArg('runs', 7);
const BATCH = 100;
const SOURCE = 'src_bench';

const bodies: Buffer[] = [];
for (let b = 0; b < EVENTS / BATCH; b++) {
  const batch = Array.from({ length: BATCH }, (_, i) => trackingMessage(b * BATCH + i, i, 'steps', 1000));
  bodies.push(Buffer.from(JSON.stringify({ batch })));
}
const pseudonymize = cachePseudonyms(createPseudonymizer(randomBytes(32).toString('base64')), 100_000);
const consent = { granted: true, consentId: '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' };

const STEPS = [
  'read body (UTF-8, JSON.parse)',
  'validate',
  'consent gate',
  'minimise',
  'pseudonymise',
  'scrub',
  'enrich',
  'event id',
  'journal record (per 100)',
] as const;
type Step = (typeof STEPS)[number];

function once(): Map<Step, number> {
  const spent = new Map<Step, number>(STEPS.map((s) => [s, 0]));
  const add = (step: Step, since: number) => {
    const t = performance.now();
    spent.set(step, spent.get(step)! + (t - since));
    return t;
  };
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const receivedAt = Date.now();
  for (const body of bodies) {
    let t = performance.now();
    const { batch } = JSON.parse(utf8.decode(body)) as { batch: unknown[] };
    t = add('read body (UTF-8, JSON.parse)', t);
    const rows: EventRecord[] = [];
    for (const raw of batch) {
      const v = validateEvent(raw, { receivedAt });
      t = add('validate', t);
      if (v.kind !== 'ok') continue;
      const g = consentGate(v.event, consent);
      t = add('consent gate', t);
      if (g.kind !== 'ok') continue;
      const m = minimiseEvent(g.event);
      t = add('minimise', t);
      if (m.kind !== 'ok') continue;
      const p = pseudonymiseEvent(m.event, pseudonymize);
      t = add('pseudonymise', t);
      if (p.kind !== 'ok') continue;
      const s = scrubEvent(p.event);
      t = add('scrub', t);
      if (s.kind !== 'ok') continue;
      const e = enrichEvent(s.event);
      t = add('enrich', t);
      if (e.kind !== 'ok') continue;
      const { messageId, ...record } = e.event;
      rows.push({ ...record, eventId: eventIdOf(SOURCE, messageId), sourceId: SOURCE });
      t = add('event id', t);
    }
    rowsJson(rows);
    add('journal record (per 100)', t);
  }
  return spent;
}

once(); // warm-up: compiled code and a filled pseudonym cache, as in a running server
const runs: Map<Step, number>[] = [];
for (let r = 0; r < RUNS; r++) runs.push(once());

const perEvent = (ms: number) => Math.round(((ms * 1000) / EVENTS) * 100) / 100;
const results: Record<string, string | number>[] = STEPS.map((step) => ({
  step,
  'µs/event (median)': perEvent(median(runs.map((m) => m.get(step)!))),
  'µs/event (runs)': runs.map((m) => perEvent(m.get(step)!)).join(' / '),
}));
const total = perEvent(median(runs.map((m) => [...m.values()].reduce((a, b) => a + b, 0))));
results.push({ step: 'total', 'µs/event (median)': total, 'µs/event (runs)': '' });
printTable(results);
console.log(
  `recorded ${recordResult('ingest-steps', { settings: { events: EVENTS, runs: RUNS, batch: BATCH }, results })}`,
);
