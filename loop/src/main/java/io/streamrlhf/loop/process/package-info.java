/**
 * Components as OS processes, and the scheduling of components that share a machine:
 * {@link io.streamrlhf.loop.process.ChildJvm} starts a child JVM on this JVM's class path (optionally niced or under
 * {@code SCHED_IDLE}) and stops it; {@link io.streamrlhf.loop.process.ChildJvmComponent} supervises one;
 * {@link io.streamrlhf.loop.process.ThreadNiceness} lowers the priority of this JVM's threads that have slack.
 */
package io.streamrlhf.loop.process;
