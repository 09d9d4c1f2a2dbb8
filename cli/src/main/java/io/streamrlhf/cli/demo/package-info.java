/**
 * {@code rlhf demo} and {@code rlhf bench e2e}: the whole StreamRLHF loop on the embedded single-machine default.
 *
 * <p>This package owns the orchestration only: it starts the embedded broker and registry, makes (or loads from its
 * cache) the SFT policy and the initial reward-model ensemble, runs the real components of the other modules together
 * (policy workers, the reward stream, the PPO learner, the online reward-model trainer as a child JVM, simulated
 * raters), supervises them, shows progress, measures the gold reward before and after, and writes the report. Every
 * algorithm lives in its own module; nothing here re-implements one.
 */
package io.streamrlhf.cli.demo;
