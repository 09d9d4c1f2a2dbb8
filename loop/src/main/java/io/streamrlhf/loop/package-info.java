/**
 * The loop module: starting, supervising and stopping the StreamRLHF components together, in one JVM (the demo) or
 * as one OS process each. It depends on every service and on {@code embedded}; no service depends on it.
 *
 * <ul>
 *   <li>{@code supervision}: what a supervised component is, and the supervisor that starts, checks and stops
 *       them.</li>
 *   <li>{@code component}: the services on threads of this JVM.</li>
 *   <li>{@code process}: components as child JVMs, and thread priorities.</li>
 *   <li>{@code demo}: {@code rlhf demo}: its options, profile, run and result.</li>
 *   <li>{@code bench}: {@code rlhf bench e2e}, the demo's loop streaming against lockstep.</li>
 *   <li>{@code stack}: {@code rlhf stack}: every component its own supervised OS process.</li>
 *   <li>{@code chaos}: {@code rlhf chaos}: a stack under seeded SIGKILLs, drained and audited from its topics.</li>
 * </ul>
 */
package io.streamrlhf.loop;
