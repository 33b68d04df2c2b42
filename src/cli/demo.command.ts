/**
 * `candor demo` and `serve --demo`: generate the deterministic demo shop and load it into Candor, with a
 * progress bar on a terminal (stderr) and plain progress lines otherwise.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { createPseudonymizer } from '../kernel/crypto.ts';
import { AppError } from '../kernel/errors.ts';
import type { CandorModule } from '../kernel/module.ts';
import { DEMO_DEFAULTS, createDemoPipeline, loadDemoShop, type DemoProgress } from '../flows/demo/index.ts';
import type { AuthModule } from '../modules/auth/index.ts';
import type { CatalogModule } from '../modules/catalog/index.ts';
import { DEFAULT_NOTICE_TEXTS, type ConsentModule } from '../modules/consent/index.ts';
import type { IngestModule } from '../modules/ingest/index.ts';
import type { Candor } from '../server/index.ts';
import { openCandorForCli } from './admin-client.ts';
import { globals, integer, type Io } from './program.ts';

export type DemoSize = { shoppers: number; days: number; seed: number; products: number };

function progressReporter(io: Io): { update(p: DemoProgress): void; stop(): void } {
  // Inside the server (admin endpoint) the caller's terminal is elsewhere: plain lines.
  if (!process.stderr.isTTY || io.server) {
    let phase = '';
    return {
      update: (p) => {
        if (p.phase !== phase && p.phase !== 'done') io.say(`demo: loading ${p.phase}…`);
        phase = p.phase;
      },
      stop: () => undefined,
    };
  }
  const bar = new SingleBar(
    { format: 'demo {phase} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update: (p) => {
      if (p.phase === 'done') return;
      if (!started) bar.start(p.total, p.done, { phase: p.phase });
      started = true;
      bar.setTotal(p.total);
      bar.update(p.done, { phase: p.phase });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function moduleOf<M extends CandorModule>(candor: Candor, name: string): M {
  const m = candor.modules.find((x) => x.name === name);
  if (!m)
    throw new AppError('config_invalid', `The demo shop needs the ${name} module, which is not loaded.`);
  return m as M;
}

/** The name of the source the demo shop sends from (one per data directory, reused on reload). */
export const DEMO_SOURCE_NAME = 'Demo shop';

/**
 * A write key of the demo source, created through the auth module like any shop's source. On a reload the
 * same source gets a fresh key (keys are stored hashed), so its event ids, and thus deduplication, stay the same.
 */
async function demoSource(auth: AuthModule): Promise<{ sourceId: string; writeKey: string }> {
  const existing = (await auth.keys.listSources()).find((s) => s.name === DEMO_SOURCE_NAME);
  if (!existing) return auth.keys.createSource(DEMO_SOURCE_NAME, 'system:demo');
  const { writeKey } = await auth.keys.rotateWriteKey(existing.id, 0, 'system:demo');
  return { sourceId: existing.id, writeKey };
}

/**
 * Loads the demo shop into an open Candor through the real front door (consent service, ingestion
 * pipeline); returns the generator's summary and what the pipeline did with the calls.
 */
export async function loadDemoInto(
  candor: Candor,
  size: DemoSize,
  io: Io,
  onProgress?: (p: DemoProgress) => void,
) {
  const catalog = moduleOf<CatalogModule>(candor, 'catalog');
  const consent = moduleOf<ConsentModule>(candor, 'consent');
  const ingest = moduleOf<IngestModule>(candor, 'ingest');
  const source = await demoSource(moduleOf<AuthModule>(candor, 'auth'));
  const pipeline = createDemoPipeline({
    consent: consent.service,
    ingest: ingest.service,
    pseudonymize: createPseudonymizer(candor.config.secrets.pseudonymKey ?? ''),
    writeKey: source.writeKey,
    sourceId: source.sourceId,
    noticeTexts: DEFAULT_NOTICE_TEXTS,
  });
  const progress = progressReporter(io);
  try {
    const summary = await loadDemoShop(
      {
        upsertCategories: (c) => catalog.service.upsertCategories(c),
        upsertProducts: (p) => catalog.service.upsertProducts(p),
        submit: (calls) => pipeline.submit(calls),
      },
      size,
      (p) => {
        progress.update(p);
        onProgress?.(p);
      },
    );
    return { ...summary, sourceId: source.sourceId, events: pipeline.stats() };
  } finally {
    progress.stop();
  }
}

/** One line saying what the demo load did. */
export function demoSummaryLine(
  s: Awaited<ReturnType<typeof loadDemoInto>>,
  size: DemoSize,
  ms: number,
): string {
  return (
    `Demo shop loaded in ${(ms / 1000).toFixed(1)} s: ${s.catalog.products} products, ${size.shoppers} shoppers over ${size.days} days, ` +
    `${s.events.consentDecisions} consent decisions, ${s.events.accepted} events accepted, ` +
    `${s.events.dropped} dropped (no consent), ${s.events.quarantined} quarantined.`
  );
}

/** True when nothing has been loaded yet: no products and no events. */
export async function isEmptyShop(candor: Candor): Promise<boolean> {
  const catalog = candor.modules.find((m) => m.name === 'catalog') as CatalogModule | undefined;
  const products = catalog ? await catalog.service.countProducts() : 0;
  return products === 0 && (await candor.stores.events.count()) === 0;
}

type DemoOptions = { shoppers: number; days: number; seed: number; products: number };

export function demoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'Generate a deterministic synthetic shop (catalogue, shoppers, consent, behaviour) and load it.',
    )
    .option(
      '--shoppers <n>',
      'number of shoppers',
      integer('--shoppers', 1, 10_000_000),
      DEMO_DEFAULTS.shoppers,
    )
    .option('--days <d>', 'days of history', integer('--days', 1, 3650), DEMO_DEFAULTS.days)
    .option(
      '--seed <s>',
      'random seed (same seed, same shop)',
      integer('--seed', 0, 2 ** 31 - 1),
      DEMO_DEFAULTS.seed,
    )
    .option('--products <n>', 'catalogue size', integer('--products', 1, 1_000_000), DEMO_DEFAULTS.products)
    .action(async (opts: DemoOptions, cmd: Command) => {
      const g = globals(cmd);
      const session = await openCandorForCli(cmd, io);
      // A running server did the whole command and its output is printed.
      if (!session) return;
      const { candor } = session;
      try {
        const t0 = performance.now();
        const summary = await loadDemoInto(candor, opts, io);
        if (g.json) io.out(JSON.stringify(summary));
        else io.out(demoSummaryLine(summary, opts, performance.now() - t0));
      } finally {
        await session.close();
      }
    });
}
