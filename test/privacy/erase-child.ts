/**
 * Child process for the crash test: opens the installation, starts a shopper's erasure and prints
 * IN_SLOW_TARGET when it reaches the point to be killed at, then waits to be killed. Modes:
 * - `holder`: a registered holder whose erase never returns (the crash hits mid-way through the holders);
 * - `purge`: the event store's purge rewrites the file and then never returns (the crash hits after the
 *   rewrite, before the erasure has recorded it).
 */
import { openShop } from './helpers.ts';

const [root, customerId, secretsJson, mode = 'holder', configJson = '{}'] = process.argv.slice(2);
const dir = { path: root!, cleanup: () => {} };
const shop = await openShop(dir, JSON.parse(secretsJson!) as Record<string, unknown>, {
  config: JSON.parse(configJson) as Record<string, unknown>,
});
const hang = () => {
  process.stdout.write('IN_SLOW_TARGET\n');
  return new Promise<never>(() => {});
};
if (mode === 'purge') {
  const events = shop.candor.stores.events;
  const purge = events.purge.bind(events);
  Object.assign(events, {
    purge: async () => {
      await purge();
      return hang();
    },
  });
} else {
  shop.privacy.registry.register({
    describe: () => ({ name: 'slow', summary: 'test holder', tables: [] }),
    export: async () => ({ tables: {} }),
    erase: hang,
  });
}
const token = await shop.shopperToken(customerId!);
await shop.call('POST', '/v1/me/erase', { auth: token });
