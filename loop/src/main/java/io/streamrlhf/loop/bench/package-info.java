/**
 * The end-to-end benchmark ({@code rlhf bench e2e}): the demo's loop run streaming and lockstep to the same gold
 * target, timed, and what each loop cost. A library the thin command calls and prints, as every benchmark is.
 */
package io.streamrlhf.loop.bench;
