import pg from 'pg';
import { expect, it } from 'vitest';
import { channelName } from '../../storage/adapters/postgres/postgres.notices.ts';
import { openPostgresStateStore } from '../../storage/index.ts';
import { createTestPgSchema, requirePgUrl } from '../../storage/testing.ts';
import { consentContract, openConsentProcess } from './consent.contract.testkit.ts';
import { CONSENT_CHANGES_CHANNEL } from './consent.service.ts';

consentContract(
  'PostgreSQL',
  async () => {
    const url = requirePgUrl();
    const schema = await createTestPgSchema(url);
    const state = await openPostgresStateStore({ url, schema: schema.schema });
    return {
      state,
      // Another process: its own pool and its own notice listener on the same schema.
      openPeer: () => openPostgresStateStore({ url, schema: schema.schema }),
      cleanup: async () => {
        await state.close();
        await schema.drop();
      },
    };
  },
  { sharedStore: true },
);

it('stays correct while the notice connections are cut, and trusts its cache again once they are back', async () => {
  const url = requirePgUrl();
  const schema = await createTestPgSchema(url);
  const stores = [
    await openPostgresStateStore({ url, schema: schema.schema }),
    await openPostgresStateStore({ url, schema: schema.schema }),
  ];
  const [a, b] = [await openConsentProcess(stores[0]!), await openConsentProcess(stores[1]!)];
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const channel = channelName(schema.schema, CONSENT_CHANGES_CHANNEL);
  const listeners = async () =>
    (
      await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where query = $1 and pid <> pg_backend_pid()`,
        [`LISTEN "${channel}"`],
      )
    ).rows.map((r) => r.pid);
  const decide = (on: boolean) =>
    a.request('/v1/consent', {
      body: { anonymousId: 'cut', purposes: { analytics: on }, noticeVersion: '1' },
    });
  try {
    await decide(true);
    expect(await b.analyticsAt({ anonymousId: 'cut' })).toBe(true);
    const before = await listeners();
    expect(before).toHaveLength(2);
    // Both processes lose their listening connection; decisions keep being made meanwhile.
    for (const pid of before) await admin.query('select pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 6; i++) {
      const on = i % 2 === 1;
      await decide(on);
      expect({ i, granted: await b.analyticsAt({ anonymousId: 'cut' }) }).toEqual({ i, granted: on });
    }
    // They reconnect by themselves, and the cache is then kept in step again.
    const deadline = Date.now() + 15_000;
    let after = await listeners();
    while (after.filter((pid) => !before.includes(pid)).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      after = await listeners();
    }
    expect(after.filter((pid) => !before.includes(pid))).toHaveLength(2);
    for (let i = 0; i < 6; i++) {
      const on = i % 2 === 0;
      await decide(on);
      expect({ i, granted: await b.analyticsAt({ anonymousId: 'cut' }) }).toEqual({ i, granted: on });
    }
  } finally {
    await admin.end();
    await a.close();
    await b.close();
    for (const s of stores) await s.close();
    await schema.drop();
  }
});
