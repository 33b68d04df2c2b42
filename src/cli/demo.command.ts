/**
 * `candor demo` and `serve --demo`: generate the deterministic demo shop and load it into Candor, with a
 * progress bar on a terminal (stderr) and plain progress lines otherwise.
 */
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { createPseudonymizer } from '../kernel/crypto.ts';
import { AppError } from '../kernel/errors.ts';
import {
  DEMO_DEFAULTS,
  createDirectEventWriter,
  loadDemoShop,
  type DemoProgress,
} from '../flows/demo/index.ts';
import type { CatalogModule } from '../modules/catalog/index.ts';
import { createCandor, type Candor } from '../server/index.ts';
import { loadRuntimeConfig } from './cli-config.ts';
import { cliLogger, globals, integer, type Io } from './program.ts';

export type DemoSize = { shoppers: number; days: number; seed: number; products: number };

function progressReporter(io: Io): { update(p: DemoProgress): void; stop(): void } {
  if (!process.stderr.isTTY) {
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

/** Loads the demo shop into an open Candor; returns the generator's summary. */
export async function loadDemoInto(candor: Candor, size: DemoSize, io: Io) {
  const catalog = candor.modules.find((m) => m.name === 'catalog') as CatalogModule | undefined;
  if (!catalog)
    throw new AppError('config_invalid', 'The demo shop needs the catalog module, which is not loaded.');
  const writer = createDirectEventWriter({
    events: candor.stores.events,
    pseudonymize: createPseudonymizer(candor.config.secrets.pseudonymKey ?? ''),
  });
  const progress = progressReporter(io);
  try {
    const summary = await loadDemoShop(
      {
        upsertCategories: (c) => catalog.service.upsertCategories(c),
        upsertProducts: (p) => catalog.service.upsertProducts(p),
        submit: (calls) => writer.submit(calls),
      },
      size,
      (p) => progress.update(p),
    );
    return { ...summary, events: writer.stats() };
  } finally {
    progress.stop();
  }
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
      const config = loadRuntimeConfig(g, {}, io.say);
      const candor = await createCandor(config, { logger: cliLogger(config), jobs: false });
      try {
        const summary = await loadDemoInto(candor, opts, io);
        if (g.json) io.out(JSON.stringify(summary));
        else {
          io.out(
            `Demo shop loaded: ${summary.catalog.products} products, ${opts.shoppers} shoppers over ${opts.days} days, ` +
              `${summary.events.stored} events stored (${summary.events.droppedNoConsent} dropped for lack of consent).`,
          );
        }
      } finally {
        await candor.close();
      }
    });
}
