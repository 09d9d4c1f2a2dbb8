package io.streamrlhf.embedded;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * N Kafka brokers in this JVM forming one cluster: nodes 1..N, each a combined broker and
 * controller ({@link EmbeddedKafkaBroker}) with its own data directory and ports, the N nodes
 * together the controller quorum (static voters).
 *
 * <p>Why combined nodes: with three of them the quorum has three voters and survives the loss of
 * any one node, as the data does with replication factor 3, and the machine runs three servers
 * rather than six (three controllers and three brokers). A single separate controller would be
 * cheaper still, but its loss would stop the whole cluster.
 *
 * <p>Replication follows the size: {@link #replicationFactor()} is {@code min(N, 3)} and
 * {@link #minInsyncReplicas()} one less (at least 1), so a cluster of three keeps accepting
 * {@code acks=all} writes with one broker down. The brokers' defaults for new topics and their own
 * internal topics (consumer offsets, transaction state) are set to the same values.
 *
 * <p>With a data directory, a one-node cluster keeps its logs in {@code DIR} itself (as
 * {@link EmbeddedKafkaBroker} does); a larger one keeps node i's in {@code DIR/node-i}.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);

    /** Most brokers one machine is meant to run. */
    public static final int MAX_BROKERS = 9;

    private final List<EmbeddedKafkaBroker> brokers;
    private final Path ownedRoot;
    private final long startupMillis;
    private boolean closed;

    private EmbeddedKafkaCluster(List<EmbeddedKafkaBroker> brokers, Path ownedRoot, long startupMillis) {
        this.brokers = List.copyOf(brokers);
        this.ownedRoot = ownedRoot;
        this.startupMillis = startupMillis;
    }

    /** A builder with the defaults: one broker, ephemeral data, free ports. */
    public static Builder builder() {
        return new Builder();
    }

    /** Replication factor that data topics get on a cluster of {@code brokers}: {@code min(brokers, 3)}. */
    public static short replicationFactorFor(int brokers) {
        return (short) Math.min(brokers, 3);
    }

    /**
     * {@code min.insync.replicas} for a cluster of {@code brokers}: one less than the replication
     * factor and at least 1, so an {@code acks=all} write survives one broker down and is on two
     * brokers when there are three.
     */
    public static int minInsyncReplicasFor(int brokers) {
        return Math.max(1, replicationFactorFor(brokers) - 1);
    }

    /**
     * Node {@code nodeId} of a cluster of {@code brokers} nodes whose other nodes run in other processes, so that one
     * node can be killed and restarted alone. It is laid out and configured as the same node of a cluster started in
     * one JVM on {@code dataDir}: storage in {@code dataDir/node-<id>} (formatted with {@code clusterId} when new,
     * reused as it is otherwise), client port {@code firstPort + id - 1}, controller port
     * {@code firstControllerPort + id - 1}, every node a voter, the defaults of {@link #replicationFactorFor(int)} and
     * {@link #minInsyncReplicasFor(int)}. Returns once the node is in the cluster, which takes a quorum: a majority of
     * the nodes must be running or starting too.
     *
     * @throws IllegalArgumentException when the node id, size or ports are out of range
     * @throws EmbeddedStartException   when it cannot start or join within {@code startTimeout}, or its directory
     *                                  belongs to another node or cluster
     */
    public static EmbeddedKafkaBroker startNode(int nodeId, int brokers, Path dataDir, int firstPort,
                                                int firstControllerPort, String clusterId, Duration startTimeout) {
        if (brokers < 2 || brokers > MAX_BROKERS) {
            throw new IllegalArgumentException("a node of a cluster: brokers must be 2.." + MAX_BROKERS + ", got "
                    + brokers);
        }
        if (nodeId < 1 || nodeId > brokers) {
            throw new IllegalArgumentException("node id must be 1.." + brokers + ", got " + nodeId);
        }
        if (firstPort < 1 || firstControllerPort < 1 || firstPort + brokers > 65536
                || firstControllerPort + brokers > 65536) {
            throw new IllegalArgumentException("the nodes' ports must be fixed (1..65535 for every node): first port "
                    + firstPort + ", first controller port " + firstControllerPort);
        }
        if (Math.abs(firstPort - firstControllerPort) < brokers) {
            throw new IllegalArgumentException("client ports " + firstPort + ".." + (firstPort + brokers - 1)
                    + " and controller ports " + firstControllerPort + ".." + (firstControllerPort + brokers - 1)
                    + " overlap");
        }
        long begin = System.nanoTime();
        String voters = IntStream.rangeClosed(1, brokers)
                .mapToObj(i -> i + "@localhost:" + (firstControllerPort + i - 1))
                .collect(Collectors.joining(","));
        Path logDir = DataDirs.ensureDirectory(DataDirs.ensureDirectory(dataDir).resolve("node-" + nodeId));
        EmbeddedKafkaBroker node = EmbeddedKafkaBroker.prepare(nodeId, logDir, null, firstPort + nodeId - 1,
                firstControllerPort + nodeId - 1, voters, defaults(brokers), clusterId, startTimeout, null);
        try {
            node.startServer();
            EmbeddedKafkaBroker.awaitReady(node.bootstrapServers(), List.of(nodeId), startTimeout, begin, null);
        } catch (RuntimeException | Error e) {
            node.abandon();
            throw e;
        }
        node.startedIn(EmbeddedKafkaBroker.millisSince(begin));
        LOG.info("Kafka node {} of {} ready on {} in {} ms (cluster {}, data in {})", nodeId, brokers,
                node.bootstrapServers(), node.startupMillis(), node.clusterId(), logDir);
        return node;
    }

    /**
     * The cluster id of the nodes of a cluster of {@code brokers} kept in {@code dataDir} ({@code node-1}, ...): the
     * one their formatted directories share, or a new one when none is formatted yet. Nodes started in processes of
     * their own ({@link #startNode}) must all be given it.
     *
     * @throws EmbeddedStartException when the directories belong to different clusters
     */
    public static String clusterIdIn(Path dataDir, int brokers) {
        List<Path> dirs = IntStream.rangeClosed(1, brokers).mapToObj(i -> dataDir.resolve("node-" + i)).toList();
        return Builder.existingClusterId(dirs);
    }

    /**
     * Every broker's {@code localhost:PORT} (a secure cluster made for other hosts: {@code HOST:PORT}, its advertised
     * host), comma-separated, for {@code bootstrap.servers}.
     */
    public String bootstrapServers() {
        return brokers.stream().map(EmbeddedKafkaBroker::bootstrapServers).collect(Collectors.joining(","));
    }

    /** The brokers in node-id order (index 0 is node 1). */
    public List<EmbeddedKafkaBroker> brokers() {
        return brokers;
    }

    /**
     * The broker at {@code index} (0-based; its node id is {@code index + 1}).
     *
     * @throws IllegalArgumentException when there is no such broker
     */
    public EmbeddedKafkaBroker broker(int index) {
        if (index < 0 || index >= brokers.size()) {
            throw new IllegalArgumentException("broker index " + index + " is outside 0.." + (brokers.size() - 1));
        }
        return brokers.get(index);
    }

    /** How many brokers the cluster has (running or stopped). */
    public int size() {
        return brokers.size();
    }

    /** The cluster id every node's storage carries. */
    public String clusterId() {
        return brokers.get(0).clusterId();
    }

    /** {@link #replicationFactorFor(int)} of this cluster's size. */
    public short replicationFactor() {
        return replicationFactorFor(brokers.size());
    }

    /** {@link #minInsyncReplicasFor(int)} of this cluster's size. */
    public int minInsyncReplicas() {
        return minInsyncReplicasFor(brokers.size());
    }

    /** Milliseconds from {@link Builder#start()} until every broker was seen in the cluster. */
    public long startupMillis() {
        return startupMillis;
    }

    /**
     * Stops every broker (all at once: one by one, the last ones would wait for a quorum that is
     * already gone) and deletes ephemeral data. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        long begin = System.nanoTime();
        try {
            closeAll(brokers);
        } finally {
            if (ownedRoot != null) {
                DataDirs.deleteRecursively(ownedRoot);
            }
        }
        if (brokers.size() > 1) {
            LOG.info("Kafka cluster of {} brokers stopped in {} ms", brokers.size(), EmbeddedKafkaBroker.millisSince(begin));
        }
    }

    /**
     * Stops the nodes of one cluster all at once, each on its own thread. One by one (or a few at a time, as a
     * parallel stream on two cores does), the last node would begin its controlled shutdown after the quorum had gone
     * and wait minutes for a controller that cannot answer.
     *
     * @throws RuntimeException the first node's failure to stop, the others' suppressed in it
     */
    public static void closeAll(List<EmbeddedKafkaBroker> nodes) {
        RuntimeException failure = null;
        for (CompletableFuture<Void> stop : inParallel(nodes, EmbeddedKafkaBroker::close, "embedded-kafka-close")) {
            try {
                stop.join();
            } catch (CompletionException e) {
                RuntimeException cause = asRuntime(e.getCause());
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private static List<CompletableFuture<Void>> inParallel(List<EmbeddedKafkaBroker> brokers,
                                                            java.util.function.Consumer<EmbeddedKafkaBroker> action,
                                                            String threadName) {
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (EmbeddedKafkaBroker broker : brokers) {
            futures.add(CompletableFuture.runAsync(() -> action.accept(broker), runnable -> {
                Thread t = new Thread(runnable, threadName + "-" + broker.nodeId());
                t.setDaemon(true);
                t.start();
            }));
        }
        return futures;
    }

    private static RuntimeException asRuntime(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        return new EmbeddedStartException(String.valueOf(t), t);
    }

    /** Settings for an {@link EmbeddedKafkaCluster}. */
    public static final class Builder {
        private int brokers = 1;
        private Path dataDir;
        private int firstPort;
        private int firstControllerPort;
        private Duration startTimeout = Duration.ofSeconds(90);
        private ClusterSecurity security;
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Number of brokers, 1 to {@value #MAX_BROKERS}.
         *
         * @throws IllegalArgumentException outside that range
         */
        public Builder brokers(int brokers) {
            if (brokers < 1 || brokers > MAX_BROKERS) {
                throw new IllegalArgumentException("brokers must be 1.." + MAX_BROKERS + ", got " + brokers);
            }
            this.brokers = brokers;
            return this;
        }

        /** Persistent data directory (created if missing, reused after); null for a temporary one. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Client port of node 1; node i gets {@code port + i - 1}. 0 (the default) picks free ports. */
        public Builder port(int port) {
            this.firstPort = port;
            return this;
        }

        /** Controller port of node 1; node i gets {@code port + i - 1}. 0 (the default) picks free ports. */
        public Builder controllerPort(int port) {
            this.firstControllerPort = port;
            return this;
        }

        /**
         * Makes every node secure (TLS, SCRAM users, StandardAuthorizer; see {@link ClusterSecurity}); null (the
         * default) for plaintext without authorization.
         */
        public Builder security(ClusterSecurity security) {
            this.security = security;
            return this;
        }

        /** How long {@link #start()} waits for every broker to join. */
        public Builder startTimeout(Duration startTimeout) {
            if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /**
         * An extra broker property for every node, over the defaults for the cluster's size.
         *
         * @throws IllegalArgumentException for keys the nodes own (listeners, node id, directories, voters)
         */
        public Builder property(String key, String value) {
            if (key == null || value == null) {
                throw new IllegalArgumentException("broker property key and value must not be null");
            }
            if (EmbeddedKafkaBroker.RESERVED_KEYS.contains(key)) {
                throw new IllegalArgumentException("broker property '" + key + "' is set by EmbeddedKafkaCluster "
                        + "(use port(), controllerPort() or dataDir() instead)");
            }
            properties.put(key, value);
            return this;
        }

        /** Adds every entry of {@code props} as with {@link #property(String, String)}. */
        public Builder properties(Map<String, String> props) {
            props.forEach(this::property);
            return this;
        }

        /**
         * Formats new storage, starts every node (in parallel: a node's broker waits for the quorum)
         * and returns once all of them are in the cluster.
         *
         * @throws EmbeddedStartException when a node cannot start or the cluster does not form in time
         */
        public EmbeddedKafkaCluster start() {
            long begin = System.nanoTime();
            boolean ephemeral = dataDir == null;
            Path root = ephemeral ? DataDirs.createTemp("rlhf-kafka-") : DataDirs.ensureDirectory(dataDir);
            try {
                List<Path> logDirs = logDirs(root, ephemeral);
                int attempts = (firstPort == 0 || firstControllerPort == 0) ? 3 : 1;
                for (int attempt = 1; ; attempt++) {
                    try {
                        return startOnce(logDirs, ephemeral ? root : null, begin);
                    } catch (EmbeddedStartException e) {
                        if (attempt >= attempts || !causedByBind(e)) {
                            throw e;
                        }
                        LOG.warn("A Kafka port was taken while starting (attempt {}), retrying with new ports", attempt);
                    }
                }
            } catch (RuntimeException e) {
                if (ephemeral) {
                    DataDirs.deleteRecursively(root);
                }
                throw e;
            }
        }

        /** Node i's log directory; a data directory made for another cluster size is refused by name. */
        private List<Path> logDirs(Path root, boolean ephemeral) {
            if (brokers == 1) {
                if (!ephemeral && Files.isDirectory(root.resolve("node-1"))) {
                    throw new EmbeddedStartException("data directory " + root + " holds a cluster of several brokers "
                            + "(node-1, ...); start it with its own size or choose another directory");
                }
                // Kafka wants a log directory to hold only its own files; a temporary one is one level down.
                return List.of(ephemeral ? root.resolve("kafka-logs") : root);
            }
            if (!ephemeral && Files.isRegularFile(root.resolve(EmbeddedKafkaBroker.META_PROPERTIES))) {
                throw new EmbeddedStartException("data directory " + root + " holds a one-broker cluster; start it "
                        + "with one broker or choose another directory for " + brokers);
            }
            List<Path> dirs = new ArrayList<>();
            for (int node = 1; node <= brokers; node++) {
                dirs.add(root.resolve("node-" + node));
            }
            if (!ephemeral && Files.isDirectory(root.resolve("node-" + (brokers + 1)))) {
                throw new EmbeddedStartException("data directory " + root + " holds a cluster of more than " + brokers
                        + " brokers (it has node-" + (brokers + 1) + "); start it with its own size or choose "
                        + "another directory");
            }
            return dirs;
        }

        private EmbeddedKafkaCluster startOnce(List<Path> logDirs, Path ownedRoot, long begin) {
            List<Integer> ports = ports(firstPort, "Kafka listener", List.of());
            List<Integer> controllerPorts = ports(firstControllerPort, "Kafka controller listener", ports);
            String voters = IntStream.range(0, brokers)
                    .mapToObj(i -> (i + 1) + "@localhost:" + controllerPorts.get(i))
                    .collect(Collectors.joining(","));
            Map<String, String> settings = new LinkedHashMap<>(defaults(brokers));
            settings.putAll(properties);
            String clusterId = existingClusterId(logDirs);

            List<EmbeddedKafkaBroker> nodes = new ArrayList<>();
            for (int i = 0; i < brokers; i++) {
                nodes.add(EmbeddedKafkaBroker.prepare(i + 1, DataDirs.ensureDirectory(logDirs.get(i)), null,
                        ports.get(i), controllerPorts.get(i), voters, settings, clusterId, startTimeout, security));
            }
            long prepared = System.nanoTime();
            try {
                for (CompletableFuture<Void> started
                        : inParallel(nodes, EmbeddedKafkaBroker::startServer, "embedded-kafka-start")) {
                    started.join();
                }
                EmbeddedKafkaBroker.awaitReady(nodes.stream().map(EmbeddedKafkaBroker::bootstrapServers)
                                .collect(Collectors.joining(",")),
                        IntStream.rangeClosed(1, brokers).boxed().toList(), startTimeout, begin, security);
            } catch (RuntimeException | Error e) {
                for (CompletableFuture<Void> stopped
                        : inParallel(nodes, EmbeddedKafkaBroker::abandon, "embedded-kafka-abandon")) {
                    stopped.exceptionally(t -> null).join();
                }
                if (e instanceof CompletionException c) {
                    throw asRuntime(c.getCause());
                }
                throw e;
            }
            long millis = EmbeddedKafkaBroker.millisSince(begin);
            nodes.forEach(n -> n.startedIn(millis));
            EmbeddedKafkaCluster cluster = new EmbeddedKafkaCluster(nodes, ownedRoot, millis);
            if (brokers > 1) {
                LOG.info("Kafka cluster of {} brokers ready in {} ms (config and storage {} ms, servers and quorum {} ms): "
                                + "bootstrap={} (cluster {}, replication factor {}, min.insync.replicas {})", brokers,
                        millis, java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(prepared - begin),
                        EmbeddedKafkaBroker.millisSince(prepared), cluster.bootstrapServers(), cluster.clusterId(),
                        cluster.replicationFactor(), cluster.minInsyncReplicas());
            }
            return cluster;
        }

        /** The cluster id the formatted directories share; a new one when none is formatted. */
        private static String existingClusterId(List<Path> logDirs) {
            String found = null;
            for (Path dir : logDirs) {
                EmbeddedKafkaBroker.StorageState state = EmbeddedKafkaBroker.StorageState.read(dir);
                if (!state.formatted()) {
                    continue;
                }
                if (found != null && !found.equals(state.clusterId())) {
                    throw new EmbeddedStartException("the node directories under " + dir.getParent()
                            + " belong to different Kafka clusters (" + found + ", " + state.clusterId() + ")");
                }
                found = state.clusterId();
            }
            return found != null ? found : Uuid.randomUuid().toString();
        }

        /** {@code brokers} ports from {@code first} up, or free ones; none of them in {@code taken}. */
        private List<Integer> ports(int first, String what, List<Integer> taken) {
            List<Integer> chosen = new ArrayList<>();
            for (int i = 0; i < brokers; i++) {
                int port;
                if (first == 0) {
                    do {
                        port = LocalPorts.freePort();
                    } while (taken.contains(port) || chosen.contains(port));
                } else {
                    port = LocalPorts.choose(first + i, what + " of node " + (i + 1));
                    if (taken.contains(port)) {
                        throw new IllegalArgumentException(what + " port " + port + " of node " + (i + 1)
                                + " collides with another listener; choose ports further apart");
                    }
                }
                chosen.add(port);
            }
            return chosen;
        }
    }

    /**
     * Broker defaults for a cluster of {@code brokers}: the single-node settings with the internal
     * topics' replication, the default replication factor and {@code min.insync.replicas} raised to
     * the cluster's {@link #replicationFactorFor(int)} and {@link #minInsyncReplicasFor(int)}.
     */
    static Map<String, String> defaults(int brokers) {
        Map<String, String> props = new LinkedHashMap<>(EmbeddedKafkaBroker.SINGLE_NODE_DEFAULTS);
        if (brokers == 1) {
            return props;
        }
        String replication = String.valueOf(replicationFactorFor(brokers));
        String minIsr = String.valueOf(minInsyncReplicasFor(brokers));
        props.put("offsets.topic.replication.factor", replication);
        props.put("transaction.state.log.replication.factor", replication);
        props.put("transaction.state.log.min.isr", minIsr);
        props.put("share.coordinator.state.topic.replication.factor", replication);
        props.put("share.coordinator.state.topic.min.isr", minIsr);
        props.put("default.replication.factor", replication);
        props.put("min.insync.replicas", minIsr);
        return props;
    }

    private static boolean causedByBind(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.BindException
                    || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }
}
