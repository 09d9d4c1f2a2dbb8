/**
 * Supervision of the loop's components: {@link io.streamrlhf.loop.supervision.SupervisedComponent} (name, start,
 * failure check, orderly stop) is what every component looks like from outside, on threads of this JVM or as an OS
 * process; {@link io.streamrlhf.loop.supervision.Supervisor} starts them in order, checks them, and stops them in
 * reverse order whatever happens; {@link io.streamrlhf.loop.supervision.LoopFailureException} names the one that
 * failed.
 */
package io.streamrlhf.loop.supervision;
