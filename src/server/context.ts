/**
 * What the composition root hands to module factories (src/server/modules.ts). Modules never see this
 * type: each declares its own deps record, and modules.ts maps this context onto it.
 */
import type { Clock } from '../kernel/clock.ts';
import type { RuntimeConfig } from '../kernel/config.ts';
import type { KeyRing, Pseudonymizer } from '../kernel/crypto.ts';
import type { Guards } from '../kernel/http.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Stores } from '../storage/ports.ts';

export type ModuleContext = {
  config: RuntimeConfig;
  stores: Stores;
  logger: Logger;
  clock: Clock;
  keyRing: KeyRing;
  pseudonymize: Pseudonymizer;
  /**
   * Guards the caller of createCandor imposed (tests of guarded routes). When undefined, modules.ts uses
   * the auth module's guards; a module list without auth falls back to createDenyAllGuards().
   */
  guards: Guards | undefined;
};
