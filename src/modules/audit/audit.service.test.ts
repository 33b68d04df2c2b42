import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../kernel/clock.ts';
import { generateSecrets } from '../../kernel/config.ts';
import { silentLogger } from '../../kernel/logger.ts';
import { openSqliteStateStore } from '../../storage/index.ts';
import type { StateStore } from '../../storage/ports.ts';
import { makeTempDir, type TempDir } from '../../storage/testing.ts';
import { createAuditService, entryHash, type AuditService } from './audit.service.ts';
import { auditMigrations } from './store.ts';

let dir: TempDir;
let state: StateStore;
let audit: AuditService;
const clock = fixedClock('2025-03-01T10:00:00Z');
const signingKey = generateSecrets().signingKey;

async function fill(n: number) {
  for (let i = 1; i <= n; i++) {
    clock.advance(1000);
    await audit.record({
      actor: `staff:stf_${i % 3}`,
      action: i % 2 ? 'auth.login' : 'pii.read',
      target: `subject:p${i}`,
      outcome: 'success',
      details: { n: i },
    });
  }
}

beforeEach(async () => {
  dir = makeTempDir('audit');
  state = await openSqliteStateStore({ file: `${dir.path}/state.db` });
  await state.migrate(auditMigrations);
  audit = createAuditService({ state, clock, logger: silentLogger() }, { signingKey, checkpointEvery: 4 });
});

afterEach(async () => {
  await state.close();
  dir.cleanup();
});

describe('audit chain', () => {
  it('links each entry to the one before and verifies an untouched chain', async () => {
    await fill(10);
    const entries = await audit.list({ limit: 100 });
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prevHash).toBe(entries[i - 1]!.hash);
    expect(entries[0]!.hash).toBe(entryHash(entries[0]!));
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 10, firstBroken: null, checkpoints: 2 });
  });

  it('never forks when many records race', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        audit.record({ actor: 'system', action: 'x.race', outcome: 'success', details: { i } }),
      ),
    );
    const v = await audit.verify();
    expect(v).toMatchObject({ ok: true, entries: 40 });
  });

  it('detects a changed entry', async () => {
    await fill(10);
    await state.db.updateTable('audit_entries').set({ outcome: 'failure' }).where('seq', '=', 6).execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: 6 });
  });

  it('detects a changed entry whose own hash was recomputed (the next link breaks)', async () => {
    await fill(10);
    const row = (await audit.list({ afterSeq: 6, limit: 1 }))[0]!;
    const forged = { ...row, actor: 'staff:someone_else' };
    await state.db
      .updateTable('audit_entries')
      .set({ actor: forged.actor, hash: entryHash(forged) })
      .where('seq', '=', 7)
      .execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: 8 });
  });

  it('detects a deleted entry', async () => {
    await fill(10);
    await state.db.deleteFrom('audit_entries').where('seq', '=', 3).execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: 3 });
  });

  it('detects the tail cut off below a signed checkpoint', async () => {
    await fill(10);
    await state.db.deleteFrom('audit_entries').where('seq', '>=', 7).execute();
    const v = await audit.verify();
    expect(v).toMatchObject({ ok: false, firstBroken: 7 });
  });

  it('detects an inserted entry (later entries renumbered)', async () => {
    await fill(6);
    // Shift 4..6 up by one and slip a well-formed entry in at 4.
    for (const seq of [6, 5, 4])
      await state.db
        .updateTable('audit_entries')
        .set({ seq: seq + 1 })
        .where('seq', '=', seq)
        .execute();
    const prev = (await audit.list({ afterSeq: 2, limit: 1 }))[0]!;
    const fake = {
      seq: 4,
      ts: prev.ts + 1,
      actor: 'system',
      action: 'noop',
      target: null,
      purpose: null,
      outcome: 'success',
      details: null,
      prevHash: prev.hash,
    };
    await state.db
      .insertInto('audit_entries')
      .values({
        seq: 4,
        ts: fake.ts,
        actor: 'system',
        action: 'noop',
        target: null,
        purpose: null,
        outcome: 'success',
        details: null,
        prev_hash: prev.hash,
        hash: entryHash(fake),
      })
      .execute();
    const v = await audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toBe(4);
  });

  it('detects two entries swapped', async () => {
    await fill(10);
    const [a, b] = await audit.list({ afterSeq: 4, limit: 2 });
    await state.db.updateTable('audit_entries').set({ seq: -1 }).where('seq', '=', a!.seq).execute();
    await state.db.updateTable('audit_entries').set({ seq: a!.seq }).where('seq', '=', b!.seq).execute();
    await state.db.updateTable('audit_entries').set({ seq: b!.seq }).where('seq', '=', -1).execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: 5 });
  });

  it('detects a whole chain rewritten without the signing key', async () => {
    await fill(8);
    // Rebuild every hash consistently after changing entry 2: only the signed checkpoints can tell.
    const all = await audit.list({ limit: 100 });
    let prev = '0'.repeat(64);
    for (const e of all) {
      const changed = { ...e, prevHash: prev, outcome: e.seq === 2 ? 'denied' : e.outcome };
      const hash = entryHash(changed);
      await state.db
        .updateTable('audit_entries')
        .set({ outcome: changed.outcome, prev_hash: prev, hash })
        .where('seq', '=', e.seq)
        .execute();
      prev = hash;
    }
    const v = await audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toBe(4);
  });

  it('detects a forged checkpoint signature', async () => {
    await fill(4);
    await state.db.updateTable('audit_checkpoints').set({ signature: 'AAAA' }).where('seq', '=', 4).execute();
    expect(await audit.verify()).toMatchObject({ ok: false, firstBroken: 4 });
  });

  it('signs a checkpoint on demand and only once per head', async () => {
    await fill(5);
    expect(await audit.checkpoint()).toMatchObject({ seq: 5 });
    expect(await audit.checkpoint()).toBeNull();
    expect((await audit.verify()).checkpoints).toBe(2);
  });

  it('refuses entries that carry an email address or an IP', async () => {
    await expect(
      audit.record({ actor: 'system', action: 'x', target: 'ann@example.com', outcome: 'success' }),
    ).rejects.toMatchObject({ code: 'internal' });
    await expect(
      audit.record({ actor: 'system', action: 'x', outcome: 'success', details: { ip: '10.1.2.3' } }),
    ).rejects.toMatchObject({ code: 'internal' });
    expect((await audit.verify()).entries).toBe(0);
  });

  it('filters by action and pages after a sequence number', async () => {
    await fill(6);
    const logins = await audit.list({ action: 'auth.login' });
    expect(logins.map((e) => e.seq)).toEqual([1, 3, 5]);
    expect((await audit.list({ afterSeq: 4 })).map((e) => e.seq)).toEqual([5, 6]);
  });
});
