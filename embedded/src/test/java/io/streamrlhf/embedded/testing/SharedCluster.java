package io.streamrlhf.embedded.testing;

import io.streamrlhf.embedded.EmbeddedCluster;

/**
 * One {@link EmbeddedCluster} per test JVM, started on first use and stopped by a shutdown hook,
 * so every {@code *IT} class of a module shares a single broker and registry instead of paying
 * their start-up again (Failsafe runs a module's ITs in one JVM).
 *
 * <p>Tests must not close it, and should use their own topic names and registry subjects
 * (for example with a random suffix), since other test classes see the same cluster.
 *
 * <pre>{@code
 * String bootstrap = SharedCluster.get().bootstrapServers();
 * String registry = SharedCluster.get().registryUrl();
 * }</pre>
 *
 * <p>Available to other modules through the test-jar:
 * {@code <dependency><groupId>io.streamrlhf</groupId><artifactId>embedded</artifactId><type>test-jar</type><scope>test</scope></dependency>}.
 */
public final class SharedCluster {

    private static EmbeddedCluster cluster;
    private static RuntimeException startFailure;

    private SharedCluster() {
    }

    /**
     * The JVM's shared cluster, started on the first call.
     *
     * @throws RuntimeException the start-up error, on this and every later call (a second attempt
     *                          would only fail the same way, slower)
     */
    public static synchronized EmbeddedCluster get() {
        if (startFailure != null) {
            throw startFailure;
        }
        if (cluster == null) {
            try {
                cluster = EmbeddedCluster.builder().start();
            } catch (RuntimeException e) {
                startFailure = e;
                throw e;
            }
            EmbeddedCluster started = cluster;
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "shared-cluster-stop"));
        }
        return cluster;
    }

    /** Whether {@link #get()} has started the cluster in this JVM. */
    public static synchronized boolean isStarted() {
        return cluster != null;
    }
}
