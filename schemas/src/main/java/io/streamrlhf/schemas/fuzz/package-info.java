/**
 * Generators of hostile input, shared by the fixed-seed fuzz tests and {@code rlhf bench fuzz}: damaged records
 * of every input topic's contract ({@link io.streamrlhf.schemas.fuzz.RecordDamage}). They draw from a
 * {@link java.util.Random}, so a seed repeats a run exactly.
 */
package io.streamrlhf.schemas.fuzz;
