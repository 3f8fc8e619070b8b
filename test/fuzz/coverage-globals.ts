/**
 * The globals shared by the instrumented engine and the fuzz runner, in their own module so the
 * runner does not load the TypeScript compiler (only the loader hooks' thread needs it).
 */

/** The global the instrumented code writes to (a Uint8Array the fuzzer allocates). */
export const MAP_GLOBAL = '__nbtFuzzCoverage';
/** The global holding one past the highest counter id any loaded module uses. */
export const USED_GLOBAL = '__nbtFuzzUsed';
