/**
 * `candor evaluate recs`: offline evaluation of the recommenders on any interaction export, with a
 * splitting protocol (`--interactions`) or a predefined split (`--train/--test`). Works on files only, so
 * it never opens the data directory.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { AppError } from '../../kernel/errors.ts';
import {
  ALGORITHMS,
  PROTOCOLS,
  TASKS,
  formatReport,
  parseColumns,
  runEvaluation,
  type AlgorithmName,
  type EvaluationInput,
  type Protocol,
  type Task,
} from '../../modules/recommend/index.ts';
import { globals, type Io } from '../program.ts';

type Opts = {
  interactions?: string;
  train?: string;
  test?: string;
  sep?: string;
  header: boolean;
  columns: string;
  protocol?: Protocol;
  testFraction: number;
  testDays?: number;
  task: Task;
  k: number[];
  algorithms?: AlgorithmName[];
  tune?: boolean;
  lambda?: number;
  seed: number;
  reference?: string;
  diversity?: number[];
};

const ks = (v: string): number[] => {
  const list = v.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((k) => !Number.isInteger(k) || k < 1 || k > 1000))
    throw new InvalidArgumentError('--k takes cut-offs from 1 to 1000, comma-separated (e.g. 10,20).');
  return list;
};
const fraction = (v: string): number => {
  const f = Number(v);
  if (!(f > 0 && f < 1))
    throw new InvalidArgumentError('--test-fraction must be between 0 and 1 (e.g. 0.25).');
  return f;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`${name} must be a positive number.`);
  return n;
};
const algorithms = (v: string): AlgorithmName[] => {
  const list = v.split(',').map((a) => a.trim());
  for (const a of list)
    if (!(ALGORITHMS as readonly string[]).includes(a))
      throw new InvalidArgumentError(`unknown algorithm "${a}"; use ${ALGORITHMS.join(', ')}.`);
  return list as AlgorithmName[];
};

/** Adds `recs` under the `evaluate` command group (creating the group if no other command has yet). */
export function evaluateRecsCommand(program: Command, io: Io): void {
  const evaluate =
    program.commands.find((c) => c.name() === 'evaluate') ??
    program.command('evaluate').description('Offline evaluation of Candor models on your own data.');
  evaluate
    .command('recs')
    .description('Evaluate the recommenders on an interaction export (CSV/TSV, may be .gz, header row).')
    .option('--interactions <file>', 'all interactions; split by --protocol')
    .option('--train <file>', 'predefined training split (with --test)')
    .option('--test <file>', 'predefined test split (with --train)')
    .option('--sep <sep>', 'field separator (default: detected from the header)')
    .option('--no-header', 'the files have no header row; --columns then gives 1-based positions')
    .requiredOption(
      '--columns <spec>',
      'user=COL,item=COL[,time=COL][,session=COL][,type=COL][,weight=COL][,title=COL]',
    )
    .addOption(new Option('--protocol <p>', 'splitting protocol').choices(PROTOCOLS))
    .option('--test-fraction <f>', 'share of events (or sessions) in the test part', fraction, 0.2)
    .option('--test-days <n>', 'temporal: the last N days are the test period', positive('--test-days'))
    .addOption(
      new Option('--task <task>', 'top-n (per user) or next-item (per session click)')
        .choices(TASKS)
        .default('top-n'),
    )
    .option('--k <list>', 'cut-offs, comma-separated', ks, [10, 20])
    .option('--algorithms <list>', `comma-separated: ${ALGORITHMS.join(', ')}`, algorithms)
    .option('--tune', "tune EASE's lambda on a validation split carved from the training data")
    .option('--lambda <n>', "EASE's lambda (default 250)", positive('--lambda'))
    .option('--seed <n>', 'seed of random splits', (v) => Number(v), 42)
    .option(
      '--diversity <list>',
      'also report each algorithm MMR-re-ranked with these λ (e.g. 0.9,0.7,0.5)',
      (v: string) => {
        const list = v.split(',').map(Number);
        if (list.some((x) => !(x >= 0 && x <= 1)))
          throw new InvalidArgumentError('--diversity takes λ values from 0 to 1, comma-separated.');
        return list;
      },
    )
    .option(
      '--reference <file>',
      'next-item: session-rec recommendation lists to compare with on the clicks they cover',
    )
    .action(async (opts: Opts, cmd: Command) => {
      const json = Boolean(globals(cmd).json);
      const common = {
        columns: parseColumns(opts.columns),
        ...(opts.sep !== undefined ? { sep: opts.sep === '\\t' ? '\t' : opts.sep } : {}),
        header: opts.header,
        task: opts.task,
        ks: opts.k,
        ...(opts.algorithms ? { algorithms: opts.algorithms } : {}),
        ...(opts.tune ? { tune: true } : {}),
        ...(opts.lambda !== undefined ? { easeLambda: opts.lambda } : {}),
        seed: opts.seed,
        ...(opts.reference !== undefined ? { reference: opts.reference } : {}),
        ...(opts.diversity !== undefined ? { diversityLambdas: opts.diversity } : {}),
      };
      let input: EvaluationInput;
      if (opts.interactions) {
        if (opts.train || opts.test)
          throw new AppError('invalid_request', 'Use either --interactions or --train/--test, not both.');
        if (!opts.protocol)
          throw new AppError('invalid_request', `--interactions needs --protocol (${PROTOCOLS.join('|')}).`);
        input = {
          ...common,
          interactions: opts.interactions,
          protocol: opts.protocol,
          testFraction: opts.testFraction,
          ...(opts.testDays !== undefined ? { testDays: opts.testDays } : {}),
        };
      } else if (opts.train && opts.test) {
        input = { ...common, train: opts.train, test: opts.test };
      } else
        throw new AppError(
          'invalid_request',
          'Pass --interactions FILE --protocol P, or --train FILE --test FILE.',
        );
      const report = await runEvaluation(input, json ? () => undefined : io.say);
      io.out(json ? JSON.stringify(report) : formatReport(report));
    });
}
