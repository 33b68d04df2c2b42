export { createProfilesModule, PROFILES_REFRESH_JOB } from './profiles.module.ts';
export type { ProfilesModule, ProfilesModuleDeps, ProfilesModuleConfig } from './profiles.module.ts';
export {
  createVaultService,
  PII_FIELDS,
  PII_READ_PURPOSES,
  normaliseEmail,
  normalisePhone,
} from './vault.service.ts';
export type {
  VaultService,
  Identifiers,
  PiiField,
  PiiReadPurpose,
  StaffReader,
  VaultAudit,
} from './vault.service.ts';
export { createIdentityService, LINK_PURPOSE } from './identity.service.ts';
export type { IdentityService, ProfilesConsent } from './identity.service.ts';
export {
  createProfilesService,
  DECLARED_TRAITS,
  canonicalLocale,
  canonicalTimeZone,
} from './profiles.service.ts';
export type { ProfilesService, DeclaredTraits, Preferences } from './profiles.service.ts';
export {
  computeTraits,
  computeRfm,
  computeLifecycle,
  computeChurnRisk,
  computeInterests,
  tagOf,
  AUTOMATED_DECISIONS,
} from './traits.ts';
export type { ComputedTraits, InterestTag, Lifecycle, Rfm } from './traits.ts';
export { profilesMigrations } from './store.ts';
