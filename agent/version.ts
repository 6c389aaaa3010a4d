/** The version of this build, from package.json (one place for it). */
import pkg from '../package.json' with { type: 'json' };

export const YURT_VERSION: string = pkg.version;
