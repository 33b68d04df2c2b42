/**
 * `candor evaluate nlu`: trains the chatbot's intent classifier on a labelled file, tunes its out-of-scope
 * thresholds on --valid (or on a split carved from --train, never on --test) and scores --test. Works on
 * files only, so it never opens the data directory.
 */
import type { Command } from 'commander';
import { AppError } from '../../kernel/errors.ts';
import { evaluateNlu, ExamplesFileError, readExamples, type NluReport } from '../../modules/chatbot/index.ts';
import { globals, integer, type Io } from '../program.ts';

type Opts = {
  train: string;
  test: string;
  valid?: string;
  epochs: number;
  seed: number;
  neighbourWeight: number;
};

const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);

function formatNlu(r: NluReport): string {
  const lines = [
    `intents ${r.intents} · train ${r.examples.train} · valid ${r.examples.valid} (${r.validation}) · test ${r.examples.test}`,
    `accuracy            ${pct(r.accuracy)}`,
    `top-1 accuracy      ${pct(r.top1Accuracy)}`,
    `in-scope accuracy   ${pct(r.inScopeAccuracy)}`,
    `OOS recall          ${pct(r.oosRecall)}`,
    `OOS precision       ${pct(r.oosPrecision)}`,
    `thresholds          confidence ${r.thresholds.confidence.toFixed(3)} · margin ${r.thresholds.margin.toFixed(3)}`,
    `p95 per message     ${r.p95MsPerMessage} ms · training ${r.trainSeconds} s`,
    ...Object.entries(r.perLanguage).map(([l, v]) => `  ${l.padEnd(8)} n=${v.n}  ${pct(v.accuracy)}`),
  ];
  return lines.join('\n');
}

/** Adds `nlu` under the `evaluate` command group (creating the group if no other command has yet). */
export function evaluateNluCommand(program: Command, io: Io): void {
  const evaluate =
    program.commands.find((c) => c.name() === 'evaluate') ??
    program.command('evaluate').description('Offline evaluation of Candor models on your own data.');
  evaluate
    .command('nlu')
    .description(
      'Evaluate the chatbot intent classifier (CSV/TSV, header text,label[,lang]; label "oos" = out of scope).',
    )
    .requiredOption('--train <file>', 'training examples')
    .requiredOption('--test <file>', 'test examples (only scored, never tuned on)')
    .option(
      '--valid <file>',
      'validation examples for the out-of-scope thresholds (default: 10 % of --train)',
    )
    .option('--epochs <n>', 'training passes', integer('--epochs', 1, 200), 12)
    .option('--seed <n>', 'random seed', integer('--seed', 0, 2 ** 31 - 1), 7)
    .option(
      '--neighbour-weight <w>',
      'share of the nearest-neighbour model in the ensemble, 0-1 (0 = linear model only)',
      (v: string) => {
        const w = Number(v);
        if (!(w >= 0 && w <= 1))
          throw new AppError('invalid_request', '--neighbour-weight must be between 0 and 1.');
        return w;
      },
      0,
    )
    .action((opts: Opts, cmd: Command) => {
      const g = globals(cmd);
      let report: NluReport;
      try {
        const input = {
          train: readExamples(opts.train),
          test: readExamples(opts.test),
          ...(opts.valid ? { valid: readExamples(opts.valid) } : {}),
        };
        report = evaluateNlu(input, {
          epochs: opts.epochs,
          seed: opts.seed,
          neighbourWeight: opts.neighbourWeight,
        });
      } catch (e) {
        if (e instanceof ExamplesFileError) throw new AppError('invalid_request', e.message);
        throw e;
      }
      io.out(g.json ? JSON.stringify(report) : formatNlu(report));
    });
}
