import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../kernel/clock.ts';
import { generateSecrets } from '../../kernel/config.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openPostgresStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { createTestPgSchema, requirePgUrl, type TestPgSchema } from '../../storage/testing.ts';
import { createAuditService } from './audit.service.ts';
import { auditMigrations } from './store.ts';

const url = requirePgUrl();
let schema: TestPgSchema;
const stores: StateStore[] = [];
const signingKey = generateSecrets().signingKey;

beforeAll(async () => {
  schema = await createTestPgSchema(url);
  // Three independent pools stand in for three API processes appending to one chain.
  for (let i = 0; i < 3; i++)
    stores.push(await openPostgresStateStore({ url, schema: schema.schema, maxConnections: 4 }));
  await stores[0]!.migrate(auditMigrations);
});

afterAll(async () => {
  for (const s of stores) await s.close();
  await schema.drop();
});

describe('audit chain on PostgreSQL', () => {
  it('stays linear when several processes append at once, and detects tampering', async () => {
    const writers = stores.map((state) =>
      createAuditService(
        { state, clock: systemClock, logger: silentLogger() },
        { signingKey, checkpointEvery: 10 },
      ),
    );
    await Promise.all(
      writers.flatMap((w, p) =>
        Array.from({ length: 20 }, (_, i) =>
          w.record({ actor: `system:p${p}`, action: 'test.append', outcome: 'success', details: { i } }),
        ),
      ),
    );
    const v = await writers[0]!.verify();
    expect(v).toMatchObject({ ok: true, entries: 60, firstBroken: null, checkpoints: 6 });
    await stores[1]!.db
      .updateTable('audit_entries')
      .set({ action: 'test.changed' })
      .where('seq', '=', 33)
      .execute();
    expect(await writers[2]!.verify()).toMatchObject({ ok: false, firstBroken: 33 });
  });
});
