import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKeyRing, generateSecrets, loadConfig, resolveSecrets } from '../../src/kernel/index.ts';
import { createCandor, rotateKeys } from '../../src/server/index.ts';

// KEK rotation re-wraps stored data keys without touching the data: after rotation the old KEK can be
// retired and every shopper's sealed identifiers still open.
const dir = mkdtempSync(path.join(os.tmpdir(), 'candor-kek-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configWith(kek: string, previousKeks: string[]) {
  const base = generateSecrets();
  return resolveSecrets(
    loadConfig({
      env: {},
      overrides: {
        env: 'test',
        dataDir: dir,
        logLevel: 'silent',
        secrets: {
          ...base,
          kek,
          previousKeks,
          pseudonymKey: fixed.pseudonymKey,
          signingKey: fixed.signingKey,
        },
      },
    }),
  ).config;
}
const fixed = generateSecrets();

describe('issue 2: KEK rotation', () => {
  it('re-wraps every data key under the new KEK; the old KEK can then be retired', async () => {
    const oldKek = randomBytes(32).toString('base64');
    const newKek = randomBytes(32).toString('base64');

    let candor = await createCandor(configWith(oldKek, []), { jobs: false });
    const profiles = candor.modules.find((m) => m.name === 'profiles') as unknown as {
      storeIdentifiers(id: string, v: Record<string, string>): Promise<void>;
      vault: { readForSubject(ids: readonly string[]): Promise<unknown> };
    };
    await profiles.storeIdentifiers('subj-1', { email: 'kek-test@example.test' });
    await candor.close();

    candor = await createCandor(configWith(newKek, [oldKek]), { jobs: false });
    const first = await rotateKeys(candor.stores.state, createKeyRing(newKek, [oldKek]));
    expect(first.rewrapped.subject_keys).toBe(1);
    const again = await rotateKeys(candor.stores.state, createKeyRing(newKek, [oldKek]));
    expect(again.total).toBe(0);
    await candor.close();

    // Old KEK gone from the configuration: the identifiers still open.
    candor = await createCandor(configWith(newKek, []), { jobs: false });
    const p2 = candor.modules.find((m) => m.name === 'profiles') as unknown as typeof profiles;
    expect(JSON.stringify(await p2.vault.readForSubject(['subj-1']))).toContain('kek-test@example.test');
    await candor.close();
  });
});
