/** The profiles module's personal data: data keys, the PII vault, the identity graph, traits, interests, settings. */
import type { PersonalDataHolder } from '../privacy/index.ts';
import { subjectIdsOf } from '../privacy/index.ts';
import type { IdentityService } from './identity.service.ts';
import type { ProfilesService } from './profiles.service.ts';
import { AUTOMATED_DECISIONS } from './traits.ts';
import type { VaultService } from './vault.service.ts';

const plain = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );

export function createProfilesHolder(deps: {
  vault: VaultService;
  identity: IdentityService;
  profiles: ProfilesService;
}): PersonalDataHolder {
  return {
    describe: () => ({
      name: 'profiles',
      summary:
        'Your contact details (encrypted with a key of your own), which devices are linked to your account, traits you declared or we computed, your interest tags and your personalisation setting.',
      sources: [
        'you, when you sign in or fill in your details',
        'the shop backend (identify calls)',
        'computed from your events',
      ],
      automatedDecisions: AUTOMATED_DECISIONS.map((d) => ({ ...d })),
      tables: [
        {
          store: 'state',
          table: 'subject_keys',
          subjectColumns: ['subject_id'],
          category: 'identifiers',
          purpose:
            'Your own encryption key for your contact details; destroying it makes every copy unreadable.',
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'pii_vault',
          subjectColumns: ['subject_id'],
          personalColumns: ['ciphertext', 'lookup_hash'],
          category: 'identifiers',
          purpose: 'Contacting you about orders and, with consent, marketing.',
          retention: 'Until erasure or rectification.',
        },
        {
          store: 'state',
          table: 'identity_links',
          subjectColumns: ['anonymous_id', 'user_id'],
          category: 'profile',
          purpose: 'Recognising your devices as you after sign-in (only with personalisation consent).',
          retention: 'Until erasure or a split.',
        },
        {
          store: 'state',
          table: 'profile_traits',
          subjectColumns: ['subject_id'],
          personalColumns: ['value'],
          category: 'traits',
          purpose:
            'Personalisation and segments; and the time zone and language your device reported, so messages you agreed to arrive at a decent local hour and in your language.',
          retention:
            'Computed traits are recomputed daily and removed when personalisation is off; time zone and language are replaced when your device reports new ones; all removed on erasure.',
        },
        {
          store: 'state',
          table: 'interest_tags',
          subjectColumns: ['subject_id'],
          category: 'traits',
          purpose: 'Ranking recommendations and search results.',
          retention: 'Recomputed daily; deletable one by one.',
        },
        {
          store: 'state',
          table: 'interest_tag_suppressions',
          subjectColumns: ['subject_id'],
          category: 'traits',
          purpose: 'Remembering tags you deleted so they are never derived again.',
          retention: 'Until erasure.',
        },
        {
          store: 'state',
          table: 'profile_settings',
          subjectColumns: ['subject_id'],
          category: 'profile',
          purpose: 'Your personalisation switch and restriction of processing.',
          retention: 'Until erasure.',
        },
      ],
    }),
    async export(subject) {
      const ids = subjectIdsOf(subject);
      const identifiers = await deps.vault.readForSubject(ids);
      const p = await deps.profiles.export(ids);
      return {
        tables: {
          identifiers: Object.entries(identifiers).map(([field, value]) => ({ field, value })),
          identity_links: await deps.identity.linksOf(ids),
          traits: plain(p.traits).map((t) => ({ ...t, value: JSON.parse(String(t.value)) as unknown })),
          interest_tags: plain(p.interests),
          deleted_interest_tags: plain(p.suppressions),
          settings: plain(p.settings),
        },
      };
    },
    async erase(subject) {
      const ids = subjectIdsOf(subject);
      // The key goes first: from this moment every sealed identifier is unreadable, even if a later step fails.
      const keys = await deps.vault.destroyKeys(ids);
      const vault = await deps.vault.deleteVault(ids);
      const links = await deps.identity.erase(ids);
      const rest = await deps.profiles.erase(ids);
      return { deleted: keys + vault + links + rest };
    },
  };
}
