/**
 * Hostile input for the producer's front doors, shared by the fixed-seed fuzz tests and {@code rlhf bench fuzz}:
 * requests to the feedback API ({@link io.streamrlhf.producer.fuzz.FeedbackRequests}), the client that sends them
 * and sorts the answers ({@link io.streamrlhf.producer.fuzz.FeedbackApiFuzzer}), and damaged lines for the JSONL
 * importers ({@link io.streamrlhf.producer.fuzz.JsonlDamage}). Generators draw from a {@link java.util.Random}, so a
 * seed repeats a run exactly.
 */
package io.streamrlhf.producer.fuzz;
