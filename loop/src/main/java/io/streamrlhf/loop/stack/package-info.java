/**
 * The loop as a stack of OS processes ({@code rlhf stack up|status|down}): {@link io.streamrlhf.loop.stack.StackPlan}
 * derives each process's {@code rlhf} command and each kind's config file from the options and the demo profile
 * (pure, so the compose file can be checked against it); {@link io.streamrlhf.loop.stack.StackRunner} bootstraps and
 * supervises the processes, restarting any that exits; {@link io.streamrlhf.loop.stack.StackState} is the state file
 * it writes; {@link io.streamrlhf.loop.stack.StackStatus} reads it with the cluster's lags and versions.
 */
package io.streamrlhf.loop.stack;
