/**
 * `candor evaluate sentiment --train FILE --test FILE [--builtin] --json`: trains the review-sentiment
 * classifier on a labelled file (CSV/TSV, header `text,label[,lang]`, labels positive|negative|neutral)
 * and reports accuracy and macro-F1 on another, overall and per language. Works on files only; the data
 * directory is never opened.
 */
import type { Command } from 'commander';
import {
  builtinSentimentExamples,
  evaluateSentiment,
  readLabelledFile,
  type SentimentReport,
} from '../../modules/analytics/index.ts';
import { globals, integer, type Io } from '../program.ts';

function formatReport(r: SentimentReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lines = [
    `trained on ${r.train.examples} examples (${r.train.labels.join(', ')})`,
    'language   examples  accuracy   macro-F1',
  ];
  const row = (name: string, m: SentimentReport['overall']) =>
    `${name.padEnd(9)}  ${String(m.examples).padStart(8)}  ${pct(m.accuracy).padStart(8)}  ${pct(m.macroF1).padStart(9)}`;
  lines.push(row('overall', r.overall));
  for (const [lang, m] of Object.entries(r.perLanguage)) lines.push(row(lang, m));
  return lines.join('\n');
}

export function evaluateSentimentCommand(program: Command, io: Io): void {
  const evaluate =
    program.commands.find((c) => c.name() === 'evaluate') ??
    program.command('evaluate').description('Offline evaluation of Candor models on your own data.');
  evaluate
    .command('sentiment')
    .description('Train the review-sentiment classifier on one labelled file and score it on another.')
    .requiredOption('--train <file>', 'labelled training file (.csv/.tsv[.gz], header text,label[,lang])')
    .requiredOption('--test <file>', 'labelled test file (same format)')
    .option('--builtin', "add the shipped model's built-in examples to the training data", false)
    .option('--epochs <n>', 'training passes over the data', integer('--epochs', 1, 50), 8)
    .action((opts: { train: string; test: string; builtin: boolean; epochs: number }) => {
      const train = readLabelledFile(opts.train);
      const extra = opts.builtin ? builtinSentimentExamples().map((e) => ({ ...e, lang: 'builtin' })) : [];
      const report = evaluateSentiment([...train, ...extra], readLabelledFile(opts.test), {
        epochs: opts.epochs,
      });
      io.out(globals(evaluate).json ? JSON.stringify(report) : formatReport(report));
    });
}
