/**
 * {@code rlhf demo} and {@code rlhf bench e2e}: the whole StreamRLHF loop on the embedded single-machine default.
 *
 * <p>{@link io.streamrlhf.loop.demo.DemoRunner} is the run as a sequence of steps: the starting models
 * ({@link io.streamrlhf.loop.demo.StartingModels}, cached), the baseline, the embedded cluster and topics, the
 * components of {@code io.streamrlhf.loop.component} and the trainer process started and supervised with the settings
 * of {@link io.streamrlhf.loop.demo.DemoSettings}, each connecting as the principal
 * {@link io.streamrlhf.loop.demo.DemoPrincipals} gives it (its own user on a secure cluster), the orderly stop, the
 * final measurement, {@link io.streamrlhf.loop.demo.DemoResult} and {@link io.streamrlhf.loop.demo.DemoReport}.
 * Every algorithm lives in its own module; nothing here re-implements one.
 */
package io.streamrlhf.loop.demo;
