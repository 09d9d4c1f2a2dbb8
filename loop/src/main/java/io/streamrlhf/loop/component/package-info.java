/**
 * The loop's components as {@link io.streamrlhf.loop.supervision.SupervisedComponent}s on threads of this JVM: the
 * reward stream, the PPO learner, the policy workers, the simulated raters and the prompt pacer (streaming or
 * lockstep). Each wraps the service of its own module through its public API, says how its failure reads, and stops in
 * order; nothing here re-implements a service.
 */
package io.streamrlhf.loop.component;
