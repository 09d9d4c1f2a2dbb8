package io.streamrlhf.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker running in this JVM: one KRaft node (id 1) that is both broker
 * and controller, listening on {@code localhost}.
 *
 * <p>This is the only class in the project that touches Kafka's internal server APIs
 * ({@link Formatter}, {@link KafkaConfig}, {@link KafkaRaftServer}); everything else talks to the
 * broker through {@link #bootstrapServers()} and the public clients.
 *
 * <p>Data lives either in a temporary directory deleted by {@link #close()} (ephemeral, the
 * default) or in a directory the caller names (persistent). A persistent directory is formatted
 * once; later starts reuse it with its cluster id, so topics and records survive a restart.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start()) {
 *     String bootstrap = broker.bootstrapServers(); // "localhost:41234"
 * }
 * }</pre>
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    /** The KRaft node id of the single combined broker/controller. */
    public static final int NODE_ID = 1;
    /** Name of the client listener. */
    public static final String BROKER_LISTENER = "PLAINTEXT";
    /** Name of the controller (Raft) listener. */
    public static final String CONTROLLER_LISTENER = "CONTROLLER";
    /** File Kafka writes into every formatted log directory. */
    static final String META_PROPERTIES = "meta.properties";

    /**
     * Keys that describe the node's identity and wiring; the embedded broker owns them, so the
     * caller may not override them through {@link Builder#property(String, String)}.
     */
    static final Set<String> RESERVED_KEYS = Set.of(
            "process.roles", "node.id", "listeners", "advertised.listeners", "listener.security.protocol.map",
            "controller.listener.names", "inter.broker.listener.name", "controller.quorum.voters",
            "controller.quorum.bootstrap.servers", "log.dirs", "log.dir", "metadata.log.dir");

    /**
     * Defaults for one node on a small machine. Replication factors and ISR of 1 are what
     * transactions and consumer groups need with one broker; small internal-topic partition counts
     * and a small cleaner buffer keep start-up time and heap low on two cores.
     */
    static final Map<String, String> SINGLE_NODE_DEFAULTS = orderedMap(
            "offsets.topic.replication.factor", "1",
            "offsets.topic.num.partitions", "4",
            "transaction.state.log.replication.factor", "1",
            "transaction.state.log.min.isr", "1",
            "transaction.state.log.num.partitions", "4",
            "share.coordinator.state.topic.replication.factor", "1",
            "share.coordinator.state.topic.min.isr", "1",
            "share.coordinator.state.topic.num.partitions", "4",
            "group.initial.rebalance.delay.ms", "0",
            "default.replication.factor", "1",
            "min.insync.replicas", "1",
            "num.partitions", "1",
            "log.cleaner.dedupe.buffer.size", String.valueOf(16 * 1024 * 1024),
            "num.network.threads", "2",
            "num.io.threads", "4",
            "num.recovery.threads.per.data.dir", "1");

    private final Path logDir;
    private final boolean ephemeral;
    private final int port;
    private final int controllerPort;
    private final String clusterId;
    private final boolean formattedNow;
    private final long startupMillis;
    private final KafkaRaftServer server;
    private final Thread shutdownHook;
    private boolean closed;

    private EmbeddedKafkaBroker(Path logDir, boolean ephemeral, int port, int controllerPort, String clusterId,
                                boolean formattedNow, long startupMillis, KafkaRaftServer server) {
        this.logDir = logDir;
        this.ephemeral = ephemeral;
        this.port = port;
        this.controllerPort = controllerPort;
        this.clusterId = clusterId;
        this.formattedNow = formattedNow;
        this.startupMillis = startupMillis;
        this.server = server;
        // A safety net for callers that never close: stop cleanly and leave no temporary data behind.
        this.shutdownHook = new Thread(this::close, "embedded-kafka-stop-" + port);
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** A builder with the defaults: ephemeral data, free ports, 60 s readiness timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** {@code localhost:PORT} of the client listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "localhost:" + port;
    }

    /** Port of the client listener. */
    public int port() {
        return port;
    }

    /** Port of the controller (Raft) listener. */
    public int controllerPort() {
        return controllerPort;
    }

    /** The cluster id stored in the data directory. */
    public String clusterId() {
        return clusterId;
    }

    /** The broker's log directory (also its metadata log directory). */
    public Path logDir() {
        return logDir;
    }

    /** Whether the data directory is temporary and deleted on {@link #close()}. */
    public boolean isEphemeral() {
        return ephemeral;
    }

    /** Whether this start formatted the storage (false when an already formatted directory was reused). */
    public boolean formattedOnStart() {
        return formattedNow;
    }

    /** Milliseconds from the start call until an Admin client saw the broker. */
    public long startupMillis() {
        return startupMillis;
    }

    /**
     * Shuts the broker down, waits until its threads and sockets are gone, and deletes the data
     * directory when it is ephemeral. Calling it again does nothing. A JVM shutdown hook calls it
     * too, for callers that do not.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Thread.currentThread() != shutdownHook) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting; the hook will find the broker closed.
            }
        }
        long begin = System.nanoTime();
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (ephemeral) {
                DataDirs.deleteRecursively(logDir.getParent());
            }
        }
        LOG.info("Kafka broker on {} stopped in {} ms", bootstrapServers(), millisSince(begin));
    }

    /**
     * Settings for one embedded broker; {@link #start()} formats (if needed), starts and waits for it.
     */
    public static final class Builder {
        private Path dataDir;
        private int port;
        private int controllerPort;
        private Duration startTimeout = Duration.ofSeconds(60);
        private final Map<String, String> properties = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Persistent data directory (created if missing, formatted on first use, reused after); null
         * for a temporary one deleted on close.
         */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** Client listener port; 0 (the default) picks a free one. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        /** Controller (Raft) listener port; 0 (the default) picks a free one. */
        public Builder controllerPort(int controllerPort) {
            this.controllerPort = controllerPort;
            return this;
        }

        /** How long {@link #start()} waits for the broker to answer an Admin client. */
        public Builder startTimeout(Duration startTimeout) {
            if (startTimeout == null || startTimeout.isNegative() || startTimeout.isZero()) {
                throw new IllegalArgumentException("startTimeout must be positive, got " + startTimeout);
            }
            this.startTimeout = startTimeout;
            return this;
        }

        /**
         * An extra broker property, applied over the single-node defaults.
         *
         * @throws IllegalArgumentException for keys the embedded broker owns (listeners, node id, directories)
         */
        public Builder property(String key, String value) {
            if (key == null || value == null) {
                throw new IllegalArgumentException("broker property key and value must not be null");
            }
            if (RESERVED_KEYS.contains(key)) {
                throw new IllegalArgumentException("broker property '" + key + "' is set by EmbeddedKafkaBroker "
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
         * Formats the storage if it is new, starts the broker and returns once an Admin client
         * sees it.
         *
         * @throws EmbeddedStartException when the broker cannot start or does not become ready in time
         */
        public EmbeddedKafkaBroker start() {
            long begin = System.nanoTime();
            boolean ephemeral = dataDir == null;
            Path root = ephemeral ? DataDirs.createTemp("rlhf-kafka-") : DataDirs.ensureDirectory(dataDir);
            // Kafka wants the log directory to hold only its own files; keep it one level down.
            Path logDir = ephemeral ? root.resolve("kafka-logs") : root;
            try {
                // Free ports can be taken by someone else between choosing and binding; choose again then.
                int attempts = (port == 0 || controllerPort == 0) ? 3 : 1;
                for (int attempt = 1; ; attempt++) {
                    try {
                        return startOnce(logDir, ephemeral, begin);
                    } catch (EmbeddedStartException e) {
                        if (attempt >= attempts || !causedByBind(e)) {
                            throw e;
                        }
                        LOG.warn("Kafka port was taken while starting (attempt {}), retrying with new ports", attempt);
                    }
                }
            } catch (RuntimeException e) {
                if (ephemeral) {
                    DataDirs.deleteRecursively(root);
                }
                throw e;
            }
        }

        private EmbeddedKafkaBroker startOnce(Path logDir, boolean ephemeral, long begin) {
            int brokerPort = LocalPorts.choose(port, "Kafka listener");
            int raftPort = LocalPorts.choose(controllerPort, "Kafka controller listener");
            if (raftPort == brokerPort) {
                if (controllerPort != 0) {
                    throw new IllegalArgumentException("Kafka listener and controller ports must differ, both are "
                            + brokerPort);
                }
                raftPort = LocalPorts.freePort();
            }
            Map<String, String> props = brokerProperties(logDir, brokerPort, raftPort, properties);
            KafkaConfig config;
            try {
                config = new KafkaConfig(props, false);
            } catch (RuntimeException e) {
                throw new EmbeddedStartException("invalid Kafka broker configuration: " + e.getMessage(), e);
            }

            StorageState storage = StorageState.read(logDir);
            String clusterId;
            boolean formattedNow;
            if (storage.formatted()) {
                if (storage.nodeId() != NODE_ID) {
                    throw new EmbeddedStartException("data directory " + logDir + " belongs to Kafka node "
                            + storage.nodeId() + ", but the embedded broker is node " + NODE_ID
                            + "; point dataDir at a directory made by EmbeddedKafkaBroker or at an empty one");
                }
                clusterId = storage.clusterId();
                formattedNow = false;
                LOG.debug("Reusing formatted Kafka storage in {} (cluster {})", logDir, clusterId);
            } else {
                clusterId = Uuid.randomUuid().toString();
                format(logDir, clusterId);
                formattedNow = true;
            }

            long formatted = System.nanoTime();
            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            long started;
            try {
                server.startup();
                started = System.nanoTime();
                awaitReady("localhost:" + brokerPort, startTimeout, begin);
            } catch (RuntimeException | Error e) {
                shutdownQuietly(server);
                if (e instanceof EmbeddedStartException) {
                    throw (EmbeddedStartException) e;
                }
                throw new EmbeddedStartException("Kafka broker failed to start on localhost:" + brokerPort
                        + " (controller port " + raftPort + ", data " + logDir + "): " + e, e);
            }
            long millis = millisSince(begin);
            LOG.info("Kafka broker ready on localhost:{} in {} ms (config and storage {} ms, server start {} ms, "
                            + "readiness {} ms; cluster {}, {} data in {})", brokerPort, millis,
                    TimeUnit.NANOSECONDS.toMillis(formatted - begin), TimeUnit.NANOSECONDS.toMillis(started - formatted),
                    millisSince(started), clusterId, ephemeral ? "ephemeral" : "persistent", logDir);
            return new EmbeddedKafkaBroker(logDir, ephemeral, brokerPort, raftPort, clusterId, formattedNow, millis,
                    server);
        }
    }

    /**
     * The full property set for one start: single-node defaults, then the caller's extras, then the
     * node's identity and listeners (which callers cannot override).
     */
    static Map<String, String> brokerProperties(Path logDir, int brokerPort, int controllerPort,
                                                Map<String, String> extra) {
        Map<String, String> props = new LinkedHashMap<>(SINGLE_NODE_DEFAULTS);
        props.putAll(extra);
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(NODE_ID));
        // A static voter set: the quorum is read from config on every start, so a persistent
        // directory keeps working when the controller port changes between runs.
        props.put("controller.quorum.voters", NODE_ID + "@localhost:" + controllerPort);
        props.put("listeners", BROKER_LISTENER + "://localhost:" + brokerPort + ","
                + CONTROLLER_LISTENER + "://localhost:" + controllerPort);
        props.put("advertised.listeners", BROKER_LISTENER + "://localhost:" + brokerPort);
        props.put("listener.security.protocol.map", BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", BROKER_LISTENER);
        props.put("log.dirs", logDir.toAbsolutePath().toString());
        return props;
    }

    private static void format(Path logDir, String clusterId) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            new Formatter()
                    .setPrintStream(print)
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(logDir.toAbsolutePath().toString()))
                    .setMetadataLogDirectory(logDir.toAbsolutePath().toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .run();
        } catch (Exception e) {
            throw new EmbeddedStartException("could not format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        LOG.debug("Formatted Kafka storage: {}", output.toString(StandardCharsets.UTF_8).trim());
    }

    private static void awaitReady(String bootstrap, Duration timeout, long begin) {
        long deadline = begin + timeout.toNanos();
        Map<String, Object> adminConfig = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.CLIENT_ID_CONFIG, "embedded-readiness");
        Exception last = null;
        try (Admin admin = Admin.create(adminConfig)) {
            while (System.nanoTime() < deadline) {
                try {
                    Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes().get(3, TimeUnit.SECONDS);
                    // A fenced broker is left out of the node list; once node 1 is there it can lead partitions.
                    if (nodes.stream().anyMatch(n -> n.id() == NODE_ID)) {
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    last = e;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EmbeddedStartException("interrupted while waiting for the Kafka broker", e);
                }
                sleep(100);
            }
        }
        throw new EmbeddedStartException("Kafka broker on " + bootstrap + " did not answer describeCluster within "
                + timeout.toSeconds() + " s" + (last == null ? "" : "; last error: " + last.getMessage()), last);
    }

    private static void shutdownQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            LOG.warn("Error shutting down a Kafka broker that failed to start", e);
        }
    }

    private static boolean causedByBind(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException) {
                return true;
            }
            if (t.getMessage() != null && t.getMessage().contains("Address already in use")) {
                return true;
            }
        }
        return false;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedStartException("interrupted while waiting for the Kafka broker", e);
        }
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }

    private static Map<String, String> orderedMap(String... keyValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            map.put(keyValues[i], keyValues[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(map);
    }

    /** What a log directory's {@code meta.properties} says, if it has one. */
    record StorageState(boolean formatted, String clusterId, int nodeId) {

        static StorageState read(Path logDir) {
            Path meta = logDir.resolve(META_PROPERTIES);
            if (!Files.isRegularFile(meta)) {
                return new StorageState(false, null, -1);
            }
            Properties props = new Properties();
            try (InputStream in = Files.newInputStream(meta)) {
                props.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + meta, e);
            }
            String clusterId = props.getProperty("cluster.id");
            String nodeId = props.getProperty("node.id");
            if (clusterId == null || nodeId == null) {
                throw new EmbeddedStartException(meta + " has no cluster.id or node.id; it was not written by a "
                        + "KRaft node. Delete the directory or choose another dataDir");
            }
            return new StorageState(true, clusterId, Integer.parseInt(nodeId.trim()));
        }
    }
}
