/**
 * `candor dsar export|erase --subject CUSTOMER_ID` and `candor retention run`: the operator's data-subject
 * rights and retention commands. The operator holds the data directory and its keys, so the request is
 * recorded as verified by the operator and audited like any other.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createPseudonymizer } from '../kernel/crypto.ts';
import { AppError } from '../kernel/errors.ts';
import { bundleToTar, isJurisdiction, type PrivacyModule } from '../modules/privacy/index.ts';
import type { ProfilesModule } from '../modules/profiles/index.ts';
import { cliPath, openCandorForCli } from './admin-client.ts';
import { globals, setExitCode, type Io } from './program.ts';

async function withPrivacy<T>(
  cmd: Command,
  io: Io,
  fn: (m: {
    privacy: PrivacyModule;
    profiles: ProfilesModule;
    pseudonym: (customerId: string) => string;
  }) => Promise<T>,
): Promise<T | undefined> {
  const session = await openCandorForCli(cmd, io);
  // A running server did the whole command and its output is printed.
  if (!session) return undefined;
  const { candor, config } = session;
  try {
    const privacy = candor.modules.find((m) => m.name === 'privacy') as PrivacyModule | undefined;
    const profiles = candor.modules.find((m) => m.name === 'profiles') as ProfilesModule | undefined;
    if (!privacy || !profiles) throw new AppError('internal', 'This build has no privacy module.');
    const key = config.secrets.pseudonymKey;
    if (!key) throw new AppError('missing_secret', 'The pseudonym key is missing; set CANDOR_PSEUDONYM_KEY.');
    const pseudonymize = createPseudonymizer(key);
    return await fn({ privacy, profiles, pseudonym: (id) => pseudonymize('user', id) });
  } finally {
    await session.close();
  }
}

function jurisdictionOf(value: string | undefined) {
  const j = value ?? 'gdpr';
  if (!isJurisdiction(j))
    throw new AppError('invalid_request', `--jurisdiction must be one of gdpr, ccpa, uu_pdp, pipl.`);
  return j;
}

export function dsarCommands(program: Command, io: Io): void {
  const dsar = program
    .command('dsar')
    .description('Data-subject requests: export or erase everything about a customer.');
  dsar
    .command('export')
    .description(
      'Write everything held about a customer to FILE (a tar of export.json and one CSV per table).',
    )
    .requiredOption('--subject <customerId>', "the shop's customer id")
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--jurisdiction <law>', 'gdpr | ccpa | uu_pdp | pipl', 'gdpr')
    .action(async (opts: { subject: string; out: string; jurisdiction?: string }, cmd: Command) => {
      const result = await withPrivacy(cmd, io, async ({ privacy, profiles, pseudonym }) => {
        const subject = await profiles.resolveSubject(pseudonym(opts.subject), true);
        const { requestId, bundle } = await privacy.service.runAsOperator(
          'export',
          subject,
          jurisdictionOf(opts.jurisdiction),
        );
        writeFileSync(cliPath(io, opts.out), bundleToTar(bundle!), { mode: 0o600 });
        return { requestId, out: opts.out, files: 1 + Object.keys(bundle!.csv).length };
      });
      if (!result) return;
      if (globals(cmd).json) io.out(JSON.stringify(result));
      else io.out(`Wrote ${result.out} (${result.files} files) for request ${result.requestId}.`);
    });
  dsar
    .command('erase')
    .description('Erase everything about a customer and print the signed receipt.')
    .requiredOption('--subject <customerId>', "the shop's customer id")
    .option('--jurisdiction <law>', 'gdpr | ccpa | uu_pdp | pipl', 'gdpr')
    .action(async (opts: { subject: string; jurisdiction?: string }, cmd: Command) => {
      const status = await withPrivacy(cmd, io, async ({ privacy, profiles, pseudonym }) => {
        const subject = await profiles.resolveSubject(pseudonym(opts.subject), true);
        return (await privacy.service.runAsOperator('erase', subject, jurisdictionOf(opts.jurisdiction)))
          .erasure!;
      });
      if (!status) return;
      if (globals(cmd).json) io.out(JSON.stringify(status.receipt ?? status));
      else if (status.receipt) io.out(JSON.stringify(status.receipt, null, 2));
      else
        io.out(
          `Erasure ${status.requestId} is still running: ${status.targets
            .filter((t) => t.status !== 'done')
            .map((t) => t.target)
            .join(', ')} pending; it resumes on the next server start or job run.`,
        );
      if (!status.receipt) setExitCode(io, 1);
    });

  program
    .command('retention')
    .description('Retention: delete what is past its time (daily roll-ups are kept).')
    .command('run')
    .description('Apply every retention policy once.')
    .action(async (_opts: unknown, cmd: Command) => {
      const result = await withPrivacy(cmd, io, ({ privacy }) => privacy.retention.run());
      if (!result) return;
      if (globals(cmd).json) io.out(JSON.stringify({ classes: result }));
      else
        io.out(
          result
            .map(
              (r) =>
                `${r.dataClass}: ${r.deleted} deleted before ${new Date(r.beforeTs).toISOString().slice(0, 10)}`,
            )
            .join('\n'),
        );
    });
}
