/** The whole `candor evaluate recs` run as one function: load, split, tune, train, rank, measure. */
import { AppError } from '../../../kernel/errors.ts';
import {
  ALGORITHMS,
  buildRequests,
  encode,
  evaluateAlgorithm,
  itemCosine,
  splitEvents,
  tuneEaseLambda,
  type AlgorithmName,
  type AlgorithmResult,
  type Protocol,
  type Task,
} from './evaluate-recs.ts';
import { loadInteractions, type ColumnMap, type RawEvent } from './load-interactions.ts';

export type EvaluationInput = {
  columns: ColumnMap;
  sep?: string;
  header?: boolean;
  task: Task;
  ks: number[];
  algorithms?: AlgorithmName[];
  /** Tune EASE's λ on a validation split of the training data. */
  tune?: boolean;
  easeLambda?: number;
  seed?: number;
  /** Extra MMR λ values: each algorithm is also reported re-ranked with each (accuracy/diversity curve). */
  diversityLambdas?: number[];
  /**
   * next-item: a session-rec recommendation list (`SessionId;Position;Recommendations;Scores`); the
   * evaluation is restricted to the clicks it covers and the list's own HR/MRR are reported alongside.
   */
  reference?: string;
} & (
  | { interactions: string; protocol: Protocol; testFraction: number; testDays?: number }
  | { train: string; test: string }
);

export type EvaluationReport = {
  task: Task;
  protocol: Protocol | 'predefined';
  k: number[];
  dataset: {
    trainEvents: number;
    testEvents: number;
    users: number;
    items: number;
    skippedRows: number;
    requests: number;
    skippedTest: number;
  };
  tuning?: { lambda: number; validationNdcg: Record<string, number> };
  reference?: { file: string; requests: number; atK: Record<string, { hr: number; mrr: number }> };
  results: AlgorithmResult[];
};

export function defaultAlgorithms(task: Task, hasTitles: boolean): AlgorithmName[] {
  const base: AlgorithmName[] =
    task === 'next-item'
      ? ['popularity', 'sequential-rules', 'vsknn', 'item-knn', 'hybrid']
      : ['popularity', 'item-knn', 'item-knn-bm25', 'ease', 'hybrid'];
  return hasTitles && task === 'top-n' ? [...base.slice(0, -1), 'content', 'hybrid'] : base;
}

export async function runEvaluation(
  input: EvaluationInput,
  say: (line: string) => void = () => undefined,
): Promise<EvaluationReport> {
  for (const a of input.algorithms ?? [])
    if (!ALGORITHMS.includes(a))
      throw new AppError('invalid_request', `Unknown algorithm "${a}"; use one of ${ALGORITHMS.join(', ')}.`);
  const opts = {
    columns: input.columns,
    ...(input.sep ? { sep: input.sep } : {}),
    ...(input.header === false ? { header: false } : {}),
  };
  let train: RawEvent[];
  let test: RawEvent[];
  let skippedRows: number;
  const protocol: Protocol | 'predefined' = 'interactions' in input ? input.protocol : 'predefined';
  const split =
    'interactions' in input
      ? {
          protocol: input.protocol,
          testFraction: input.testFraction,
          ...(input.testDays !== undefined ? { testDays: input.testDays } : {}),
          seed: input.seed ?? 42,
        }
      : { protocol: 'stratified' as const, testFraction: 0.25, seed: input.seed ?? 42 };
  if ('interactions' in input) {
    const loaded = await loadInteractions(input.interactions, opts);
    skippedRows = loaded.skipped;
    ({ train, test } = splitEvents(loaded.events, input.task, split));
  } else {
    const a = await loadInteractions(input.train, opts);
    const b = await loadInteractions(input.test, opts);
    skippedRows = a.skipped + b.skipped;
    train = a.events;
    test = b.events;
  }
  if (train.length === 0 || test.length === 0)
    throw new AppError(
      'invalid_request',
      `The split left ${train.length} training and ${test.length} test events; check --columns, --protocol and --test-fraction.`,
    );
  say(`evaluate: ${train.length} training and ${test.length} test events`);
  const enc = encode(train);
  const built = buildRequests(enc, train, test, input.task);
  const skipped = built.skipped;
  let requests = built.requests;
  let reference: EvaluationReport['reference'];
  if (input.reference) {
    const lists = await readReference(input.reference);
    requests = requests.filter((r) => r.key !== undefined && lists.has(r.key));
    const atK: Record<string, { hr: number; mrr: number }> = {};
    for (const k of input.ks) {
      let hr = 0;
      let mrr = 0;
      for (const r of requests) {
        const target = enc.itemIds[[...r.relevant][0]!]!;
        const rank = lists.get(r.key!)!.slice(0, k).indexOf(target);
        if (rank >= 0) {
          hr++;
          mrr += 1 / (rank + 1);
        }
      }
      const n = Math.max(requests.length, 1);
      atK[String(k)] = { hr: Math.round((hr / n) * 1e5) / 1e5, mrr: Math.round((mrr / n) * 1e5) / 1e5 };
    }
    reference = { file: input.reference, requests: requests.length, atK };
  }
  if (requests.length === 0)
    throw new AppError(
      'invalid_request',
      'No test user or session has anything to predict (test users must also appear in training).',
    );
  const algorithms =
    input.algorithms ??
    defaultAlgorithms(
      input.task,
      enc.titles.some((t) => t),
    );
  let lambda = input.easeLambda;
  let tuning: EvaluationReport['tuning'];
  if (input.tune && algorithms.some((a) => a === 'ease' || a === 'hybrid') && input.task === 'top-n') {
    say('evaluate: tuning EASE lambda on a validation split of the training data');
    const t = tuneEaseLambda(train, input.task, split, input.ks);
    lambda = t.lambda;
    tuning = { lambda: t.lambda, validationNdcg: t.scores };
  }
  const beyond = itemCosine(enc);
  const results: AlgorithmResult[] = [];
  for (const name of algorithms) {
    say(`evaluate: ${name}`);
    const params = { task: input.task, ...(lambda !== undefined ? { easeLambda: lambda } : {}) };
    const { model, ...result } = evaluateAlgorithm(name, enc, requests, input.ks, params, beyond);
    results.push(result);
    for (const mmrLambda of input.diversityLambdas ?? []) {
      if (mmrLambda >= 1) continue;
      const { model: _same, ...reranked } = evaluateAlgorithm(
        name,
        enc,
        requests,
        input.ks,
        { ...params, mmrLambda },
        beyond,
        { model, trainSeconds: result.trainSeconds },
      );
      results.push(reranked);
    }
  }
  return {
    task: input.task,
    protocol,
    k: input.ks,
    dataset: {
      trainEvents: train.length,
      testEvents: test.length,
      users: enc.data.nUsers,
      items: enc.data.nItems,
      skippedRows,
      requests: requests.length,
      skippedTest: skipped,
    },
    ...(tuning ? { tuning } : {}),
    ...(reference ? { reference } : {}),
    results,
  };
}

async function readReference(file: string): Promise<Map<string, string[]>> {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8').catch((e: unknown) => {
    throw new AppError('invalid_request', `Cannot read the reference file ${file}; check the path.`, {
      cause: e,
    });
  });
  const out = new Map<string, string[]>();
  for (const line of text.split('\n').slice(1)) {
    const [session, position, recs] = line.split(';');
    if (session && position && recs) out.set(`${session}:${position}`, recs.split(','));
  }
  return out;
}

/** A plain-text table of a report for terminals. */
export function formatReport(r: EvaluationReport): string {
  const lines = [
    `task ${r.task}, protocol ${r.protocol}: ${r.dataset.trainEvents} train / ${r.dataset.testEvents} test events, ${r.dataset.users} users, ${r.dataset.items} items, ${r.dataset.requests} requests`,
  ];
  if (r.tuning) lines.push(`EASE lambda tuned on validation: ${r.tuning.lambda}`);
  if (r.reference)
    for (const [k, m] of Object.entries(r.reference.atK))
      lines.push(
        `reference ${r.reference.file} on ${r.reference.requests} clicks: HR@${k} ${m.hr.toFixed(4)}  MRR@${k} ${m.mrr.toFixed(4)}`,
      );
  const head = [
    'algorithm',
    'k',
    'P',
    'R',
    'NDCG',
    'HR',
    'MRR',
    'cover',
    'ILD',
    'novelty',
    'meanPop',
    'train s',
    'p95 ms',
  ];
  const rows = [head];
  for (const res of r.results)
    for (const k of r.k) {
      const m = res.atK[String(k)]!;
      rows.push([
        res.params.mmrLambda !== undefined ? `${res.algorithm} mmr λ${res.params.mmrLambda}` : res.algorithm,
        String(k),
        ...[m.precision, m.recall, m.ndcg, m.hr, m.mrr, m.coverage, m.diversity].map((v) => v.toFixed(4)),
        m.novelty.toFixed(2),
        m.meanPopularity.toFixed(1),
        res.trainSeconds.toFixed(2),
        res.p95MsPerRequest.toFixed(2),
      ]);
    }
  const w = head.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) lines.push(row.map((v, c) => v.padEnd(w[c]!)).join('  '));
  return lines.join('\n');
}
