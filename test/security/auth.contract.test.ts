import { authContract, openAuthProcess, sharedClock, sharedSecrets } from './auth.contract.testkit.ts';

// The embedded store belongs to one process: it answers for both sides of every exchange.
authContract('SQLite', async () => {
  const h = await openAuthProcess({ clock: sharedClock(), secrets: sharedSecrets() });
  return { a: h, b: h, close: () => h.close() };
});
