import fc from "fast-check";

/**
 * Every property in the suite runs seeded (mocha requires this file in each worker), so what a run
 * covers is the same on every machine and a failure reproduces. PROPERTY_SEED=N explores other inputs;
 * fast-check prints the seed and path of a failure.
 */
export const PROPERTY_SEED = Number(process.env.PROPERTY_SEED ?? 20261130);

fc.configureGlobal({ seed: PROPERTY_SEED });
