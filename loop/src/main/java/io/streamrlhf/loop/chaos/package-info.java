/**
 * {@code rlhf chaos}: a stack of processes ({@link io.streamrlhf.loop.stack.StackRunner}) run while members of every
 * kind are killed with SIGKILL at seeded random times ({@link io.streamrlhf.loop.chaos.KillSchedule},
 * {@link io.streamrlhf.loop.chaos.ChaosRun}) and its active learner is paused with SIGSTOP until the other has taken
 * over, then resumed to check that the zombie publishes nothing ({@link io.streamrlhf.loop.chaos.ZombieCheck}), then
 * drained and audited from its topics alone
 * ({@link io.streamrlhf.loop.chaos.TopicAudit} reads them, {@link io.streamrlhf.loop.chaos.Audit} judges what they
 * hold: nothing lost, nothing twice, nothing stuck), reported as one {@link io.streamrlhf.loop.chaos.ChaosReport}.
 */
package io.streamrlhf.loop.chaos;
