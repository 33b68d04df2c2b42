/**
 * Child process for the crash test: opens the installation, registers a holder whose erase never returns,
 * starts a shopper's erasure and prints IN_SLOW_TARGET when it reaches that holder, then waits to be killed.
 */
import { openShop } from './helpers.ts';

const [root, customerId, secretsJson] = process.argv.slice(2);
const dir = { path: root!, cleanup: () => {} };
const shop = await openShop(dir, JSON.parse(secretsJson!) as Record<string, unknown>);
shop.privacy.registry.register({
  describe: () => ({ name: 'slow', summary: 'test holder', tables: [] }),
  export: async () => ({ tables: {} }),
  erase: async () => {
    process.stdout.write('IN_SLOW_TARGET\n');
    return new Promise(() => {});
  },
});
const token = await shop.shopperToken(customerId!);
await shop.call('POST', '/v1/me/erase', { auth: token });
