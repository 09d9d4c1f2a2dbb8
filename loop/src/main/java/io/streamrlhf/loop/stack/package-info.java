/**
 * The loop as a stack of OS processes ({@code rlhf stack up|status|add|remove|down}):
 * {@link io.streamrlhf.loop.stack.StackPlan} derives each process's {@code rlhf} command and each kind's config file
 * from the options and the demo profile (pure, so the compose file can be checked against it);
 * {@link io.streamrlhf.loop.stack.StackRunner} bootstraps and supervises the processes, restarting any that exits (the
 * stack's own brokers too, each its own process when there are several, stopped together by a
 * {@code BrokerGroup}); {@link io.streamrlhf.loop.stack.StackState} is the state file it writes;
 * {@link io.streamrlhf.loop.stack.StackStatus} reads it with the cluster's lags and versions;
 * {@link io.streamrlhf.loop.stack.ScaleRequest} carries {@code rlhf stack add|remove} to a running stack through its
 * directory; {@link io.streamrlhf.loop.stack.StackSecurity} holds a secure cluster's client files, one per user, whose
 * credentials each kind's config file takes.
 */
package io.streamrlhf.loop.stack;
