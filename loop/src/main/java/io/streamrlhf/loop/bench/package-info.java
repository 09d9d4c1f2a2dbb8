/**
 * The end-to-end benchmark ({@code rlhf bench e2e}): the demo's loop run streaming and lockstep to the same gold
 * target, timed, and what each loop cost; and the soak ({@code rlhf bench soak}, {@link
 * io.streamrlhf.loop.bench.SoakBench}): the stack run for a while, each process's memory and each group's lag
 * sampled ({@link io.streamrlhf.loop.bench.SoakSeries}). Libraries the thin commands call and print, as every
 * benchmark is.
 */
package io.streamrlhf.loop.bench;
