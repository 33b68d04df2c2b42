/**
 * `candor campaign send --id ID [--dry-run] [--json]`: sends (or resumes) a campaign, or with --dry-run shows
 * who would receive it (subject pseudonyms, never addresses) and how many are excluded, by reason.
 */
import type { Command } from 'commander';
import { AppError } from '../kernel/errors.ts';
import type { MarketingModule } from '../modules/marketing/index.ts';
import { openCandorForCli } from './admin-client.ts';
import { globals, type Io } from './program.ts';

export function campaignCommands(program: Command, io: Io): void {
  const campaign = program.command('campaign').description('Marketing campaigns.');
  campaign
    .command('send')
    .description('Send or resume a campaign; --dry-run lists recipients and exclusions without sending.')
    .requiredOption('--id <id>', 'campaign id or key')
    .option('--dry-run', 'show who would receive it and who is excluded (by reason); send nothing')
    .action(async (opts: { id: string; dryRun?: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const session = await openCandorForCli(cmd, io);
      // A running server did the whole command and its output is printed.
      if (!session) return;
      const { candor } = session;
      try {
        const marketing = candor.modules.find((m) => m.name === 'marketing') as MarketingModule | undefined;
        if (!marketing?.campaigns) throw new AppError('internal', 'This build has no campaigns.');
        const r = await marketing.campaigns.send(opts.id, { dryRun: opts.dryRun ?? false });
        if (g.json) {
          io.out(JSON.stringify(r));
          return;
        }
        const verb = r.dryRun ? 'Would send to' : 'Sent to';
        const lines = [
          `Campaign ${r.campaign} (${r.status}): audience ${r.audience}, hold-out ${r.holdout}.`,
          `${verb} ${r.sent}${r.alreadySent ? ` (already sent earlier: ${r.alreadySent})` : ''}.`,
          'Excluded by reason:',
          ...Object.entries(r.excluded).map(([k, v]) => `  ${k}: ${v}`),
          `  quiet_hours (deferred): ${r.deferred}`,
          ...(r.unknown ? [`  interrupted (never resent): ${r.unknown}`] : []),
          ...(r.recipients.length
            ? ['Recipients (subject pseudonyms):', ...r.recipients.map((s) => `  ${s}`)]
            : []),
        ];
        io.out(lines.join('\n'));
      } finally {
        await session.close();
      }
    });
}
