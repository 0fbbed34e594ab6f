/**
 * How the recognizer hands its coordinator to a provider that manages its own
 * leases and token (the RTZR provider: it counts pre-warmed sockets too). Other
 * providers that declare `concurrency` get the generic wrapper instead
 * (`limited-provider.ts`).
 * @module
 * @internal
 */
import type { Provider } from '../providers/provider.js';
import type { CoordinatorLink } from './link.js';

/** The method a self-coordinating provider implements (`Symbol.for`, so it works across package copies). @internal */
export const ATTACH_COORDINATION: unique symbol = Symbol.for('streaming-stt.attachCoordination');

/** @internal */
export interface SelfCoordinating {
  [ATTACH_COORDINATION](link: CoordinatorLink): void;
}

/** @internal */
export function isSelfCoordinating(p: Provider): p is Provider & SelfCoordinating {
  return typeof (p as Partial<SelfCoordinating>)[ATTACH_COORDINATION] === 'function';
}
