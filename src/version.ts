/**
 * The package version (from package.json, inlined by the build).
 * @module
 * @internal
 */
import pkg from '../package.json' with { type: 'json' };

/** `version` of package.json. @internal */
export const VERSION: string = pkg.version;
