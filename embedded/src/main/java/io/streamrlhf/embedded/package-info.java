/**
 * The single-machine default: real in-process KRaft brokers (one, or several as a replicated
 * cluster) and a real Apicurio schema registry child process, started together by
 * {@link io.streamrlhf.embedded.EmbeddedCluster}.
 *
 * <ul>
 *   <li>{@link io.streamrlhf.embedded.EmbeddedKafkaBroker} — one combined broker and controller
 *       that can be stopped and started again; the only class that uses Kafka's internal server
 *       APIs (storage formatting, {@code KafkaRaftServer}).</li>
 *   <li>{@link io.streamrlhf.embedded.EmbeddedKafkaCluster} — N of them as one cluster with an
 *       N-voter quorum, and the replication that follows from N.</li>
 *   <li>{@link io.streamrlhf.embedded.EmbeddedRegistry} — the registry child process: launch,
 *       readiness, stop (also on JVM exit, and by itself when its parent dies, through
 *       {@link io.streamrlhf.embedded.RegistryLauncher}); {@code ClassDataArchive} makes its
 *       later starts fast.</li>
 *   <li>{@link io.streamrlhf.embedded.RegistryDistribution} — finding and unpacking the registry
 *       server the build downloaded.</li>
 *   <li>{@link io.streamrlhf.embedded.LocalPorts} — free and busy loopback ports.</li>
 *   <li>{@link io.streamrlhf.embedded.ChildProcess} — stopping a child process and its descendants (SIGTERM, a
 *       grace period, SIGKILL), for the registry and for other modules' child processes.</li>
 * </ul>
 */
package io.streamrlhf.embedded;
