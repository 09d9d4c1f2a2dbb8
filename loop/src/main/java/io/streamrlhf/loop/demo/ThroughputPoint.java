package io.streamrlhf.loop.demo;

/**
 * Throughput at one progress tick.
 *
 * @param seconds         loop seconds
 * @param generationsPerS generations committed per second since the previous tick
 * @param scoredPerS      scored generations per second since the previous tick
 * @param generations     generations committed so far
 * @param scored          scored so far
 */
public record ThroughputPoint(double seconds, double generationsPerS, double scoredPerS, long generations,
                              long scored) {
}
