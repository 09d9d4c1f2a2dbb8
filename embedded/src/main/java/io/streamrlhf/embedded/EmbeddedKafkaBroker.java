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
 * A real Kafka broker running in this JVM: one KRaft node that is both broker and controller,
 * listening on {@code localhost}. Started alone by {@link #builder()} it is node 1 and its own
 * single-voter quorum; {@link EmbeddedKafkaCluster} starts several of them as one cluster whose
 * nodes form the controller quorum together.
 *
 * <p>A node can be {@link #stop() stopped} and {@link #start() started} again on the same ports
 * and data, as a test does to take one broker of a cluster away and bring it back.
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

    /** The KRaft node id of a broker started alone, and of the first node of a cluster. */
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

    private final int nodeId;
    private final Path logDir;
    private final Path ownedRoot;
    private final int port;
    private final int controllerPort;
    private final Map<String, String> properties;
    private final String clusterId;
    private final boolean formattedNow;
    private final Duration startTimeout;
    private final ClusterSecurity security;
    private final Thread shutdownHook;
    private long startupMillis;
    private KafkaRaftServer server;
    private boolean closed;

    private EmbeddedKafkaBroker(int nodeId, Path logDir, Path ownedRoot, int port, int controllerPort,
                                Map<String, String> properties, String clusterId, boolean formattedNow,
                                Duration startTimeout, ClusterSecurity security) {
        this.nodeId = nodeId;
        this.logDir = logDir;
        this.ownedRoot = ownedRoot;
        this.port = port;
        this.controllerPort = controllerPort;
        this.properties = Map.copyOf(properties);
        this.clusterId = clusterId;
        this.formattedNow = formattedNow;
        this.startTimeout = startTimeout;
        this.security = security;
        // A safety net for callers that never close: stop cleanly and leave no temporary data behind.
        this.shutdownHook = new Thread(this::close, "embedded-kafka-stop-" + port);
    }

    /**
     * One node of a cluster, its storage formatted (when new) but its server not started: every
     * node of a quorum must be starting before any of them can finish.
     *
     * @param ownedRoot directory deleted on {@link #close()}, or null to keep the data
     * @param voters    {@code id@localhost:port,...} of every controller of the cluster
     * @param clusterId the cluster id to format with when {@code logDir} is new
     * @param security  TLS, SCRAM users and the authorizer, or null for a plaintext node without authorization
     * @throws EmbeddedStartException when the configuration is invalid or the directory belongs to another node
     */
    static EmbeddedKafkaBroker prepare(int nodeId, Path logDir, Path ownedRoot, int port, int controllerPort,
                                       String voters, Map<String, String> settings, String clusterId,
                                       Duration startTimeout, ClusterSecurity security) {
        Map<String, String> props = nodeProperties(nodeId, logDir, port, controllerPort, voters, settings, security);
        try {
            new KafkaConfig(props, false);
        } catch (RuntimeException e) {
            throw new EmbeddedStartException("invalid Kafka broker configuration for node " + nodeId + ": "
                    + e.getMessage(), e);
        }
        StorageState storage = StorageState.read(logDir);
        boolean formattedNow;
        if (storage.formatted()) {
            if (storage.nodeId() != nodeId) {
                throw new EmbeddedStartException("data directory " + logDir + " belongs to Kafka node "
                        + storage.nodeId() + ", but it is used for node " + nodeId
                        + "; point dataDir at a directory made with the same number of brokers or at an empty one");
            }
            if (clusterId != null && !clusterId.equals(storage.clusterId())) {
                throw new EmbeddedStartException("data directory " + logDir + " belongs to Kafka cluster "
                        + storage.clusterId() + ", but the other nodes are in cluster " + clusterId);
            }
            formattedNow = false;
            LOG.debug("Reusing formatted Kafka storage in {} (node {}, cluster {})", logDir, nodeId,
                    storage.clusterId());
        } else {
            if (clusterId == null) {
                throw new IllegalArgumentException("a new data directory needs a cluster id: " + logDir);
            }
            format(nodeId, logDir, clusterId, security);
            formattedNow = true;
        }
        return new EmbeddedKafkaBroker(nodeId, logDir, ownedRoot, port, controllerPort, props,
                storage.formatted() ? storage.clusterId() : clusterId, formattedNow, startTimeout, security);
    }

    /** A builder with the defaults: ephemeral data, free ports, 60 s readiness timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** The KRaft node id: 1 for a broker started alone, 1..N in a cluster. */
    public int nodeId() {
        return nodeId;
    }

    /**
     * {@code HOST:PORT} of the client listener, for {@code bootstrap.servers}: {@code localhost}, or the host a secure
     * broker advertises ({@link ClusterSecurity#advertisedHost()}).
     */
    public String bootstrapServers() {
        return hostPort(security == null ? "localhost" : security.advertisedHost(), port);
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
        return ownedRoot != null;
    }

    /** Whether the server is running (started and neither stopped nor closed). */
    public synchronized boolean isRunning() {
        return server != null;
    }

    /** Whether this start formatted the storage (false when an already formatted directory was reused). */
    public boolean formattedOnStart() {
        return formattedNow;
    }

    /** Milliseconds from the latest start call until an Admin client saw the broker. */
    public synchronized long startupMillis() {
        return startupMillis;
    }

    /**
     * Starts the server again on the same ports and data after {@link #stop()}, and returns once an
     * Admin client sees this node in the cluster. Does nothing while it runs.
     *
     * @throws EmbeddedStartException when it does not start or rejoin in time
     * @throws IllegalStateException  after {@link #close()}
     */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("Kafka node " + nodeId + " on " + bootstrapServers() + " is closed");
        }
        if (server != null) {
            return;
        }
        long begin = System.nanoTime();
        startServer();
        awaitReady(bootstrapServers(), List.of(nodeId), startTimeout, begin, security);
        startupMillis = millisSince(begin);
        LOG.info("Kafka node {} ready on {} in {} ms", nodeId, bootstrapServers(), startupMillis);
    }

    /**
     * Shuts the server down (a controlled shutdown: its partitions move to the other brokers first)
     * and waits until its threads and sockets are gone; the data stays for {@link #start()}. Does
     * nothing while stopped.
     */
    public synchronized void stop() {
        if (server == null) {
            return;
        }
        long begin = System.nanoTime();
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            server = null;
        }
        LOG.info("Kafka node {} on {} stopped in {} ms", nodeId, bootstrapServers(), millisSince(begin));
    }

    /**
     * Stops the server and deletes the data directory when it is ephemeral. Calling it again does
     * nothing. A JVM shutdown hook calls it too, for callers that do not.
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
        try {
            stop();
        } finally {
            if (ownedRoot != null) {
                DataDirs.deleteRecursively(ownedRoot);
            }
        }
    }

    /** Starts the server without waiting for it to serve: a quorum's nodes must all be starting. */
    synchronized void startServer() {
        if (server != null) {
            return;
        }
        KafkaRaftServer started = new KafkaRaftServer(new KafkaConfig(properties, false), Time.SYSTEM);
        try {
            started.startup();
        } catch (RuntimeException | Error e) {
            shutdownQuietly(started);
            throw new EmbeddedStartException("Kafka node " + nodeId + " failed to start on " + bootstrapServers()
                    + " (controller port " + controllerPort + ", data " + logDir + "): " + e, e);
        }
        server = started;
        try {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        } catch (IllegalArgumentException alreadyAdded) {
            // Started again after stop(): the hook is still registered.
        }
    }

    /** Stops a node whose start failed, keeping its data for another try, and drops its shutdown hook. */
    synchronized void abandon() {
        try {
            stop();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is exiting anyway.
            }
        }
    }

    /** Records how long the first start took, once the caller has seen the node ready. */
    synchronized void startedIn(long millis) {
        startupMillis = millis;
    }

    /**
     * Settings for one embedded broker; {@link #start()} formats (if needed), starts and waits for it.
     */
    public static final class Builder {
        private Path dataDir;
        private int port;
        private int controllerPort;
        private Duration startTimeout = Duration.ofSeconds(60);
        private ClusterSecurity security;
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

        /**
         * Makes the broker secure (TLS, SCRAM users, StandardAuthorizer; see {@link ClusterSecurity}); null (the
         * default) for plaintext without authorization. A data directory keeps the users it was formatted with.
         */
        public Builder security(ClusterSecurity security) {
            this.security = security;
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
                        return startOnce(logDir, ephemeral ? root : null, begin);
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

        private EmbeddedKafkaBroker startOnce(Path logDir, Path ownedRoot, long begin) {
            int brokerPort = LocalPorts.choose(port, "Kafka listener");
            int raftPort = LocalPorts.choose(controllerPort, "Kafka controller listener");
            if (raftPort == brokerPort) {
                if (controllerPort != 0) {
                    throw new IllegalArgumentException("Kafka listener and controller ports must differ, both are "
                            + brokerPort);
                }
                raftPort = LocalPorts.freePort();
            }
            StorageState storage = StorageState.read(logDir);
            String clusterId = storage.formatted() ? storage.clusterId() : Uuid.randomUuid().toString();
            Map<String, String> settings = new LinkedHashMap<>(SINGLE_NODE_DEFAULTS);
            settings.putAll(properties);
            EmbeddedKafkaBroker broker = prepare(NODE_ID, logDir, ownedRoot, brokerPort, raftPort,
                    NODE_ID + "@localhost:" + raftPort, settings, clusterId, startTimeout, security);
            long prepared = System.nanoTime();
            try {
                broker.startServer();
                awaitReady(broker.bootstrapServers(), List.of(NODE_ID), startTimeout, begin, security);
            } catch (RuntimeException | Error e) {
                broker.abandon();
                throw e;
            }
            long millis = millisSince(begin);
            broker.startedIn(millis);
            LOG.info("Kafka broker ready on {} in {} ms (config and storage {} ms, server start and "
                            + "readiness {} ms; cluster {}, {} data in {})", broker.bootstrapServers(), millis,
                    TimeUnit.NANOSECONDS.toMillis(prepared - begin), millisSince(prepared), clusterId,
                    ownedRoot != null ? "ephemeral" : "persistent", logDir);
            return broker;
        }
    }

    /**
     * The full property set of a broker started alone: single-node defaults, then the caller's
     * extras, then the node's identity and listeners (which callers cannot override).
     */
    static Map<String, String> brokerProperties(Path logDir, int brokerPort, int controllerPort,
                                                Map<String, String> extra) {
        Map<String, String> settings = new LinkedHashMap<>(SINGLE_NODE_DEFAULTS);
        settings.putAll(extra);
        return nodeProperties(NODE_ID, logDir, brokerPort, controllerPort, NODE_ID + "@localhost:" + controllerPort,
                settings, null);
    }

    /**
     * {@code settings}, then one node's identity, listeners and the quorum's voters over them; with {@code security},
     * a {@code SASL_SSL} client listener, an {@code SSL} controller listener and the authorizer.
     */
    static Map<String, String> nodeProperties(int nodeId, Path logDir, int brokerPort, int controllerPort,
                                              String voters, Map<String, String> settings, ClusterSecurity security) {
        Map<String, String> props = new LinkedHashMap<>(settings);
        String listener = security == null ? BROKER_LISTENER : ClusterSecurity.SECURE_LISTENER;
        String protocols = security == null
                ? BROKER_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT"
                : ClusterSecurity.SECURE_LISTENER + ":SASL_SSL," + CONTROLLER_LISTENER + ":SSL";
        if (security != null) {
            props.putAll(security.brokerProperties(CONTROLLER_LISTENER));
        }
        props.put("process.roles", "broker,controller");
        props.put("node.id", String.valueOf(nodeId));
        // A static voter set: the quorum is read from config on every start, so a persistent
        // directory keeps working when the controller ports change between runs.
        props.put("controller.quorum.voters", voters);
        // A broker that clients on other machines reach (a secure one made for other hosts) listens on every
        // interface and advertises its first host; the controller listener stays on loopback.
        boolean remote = security != null && !security.hosts().isEmpty();
        props.put("listeners", listener + "://" + (remote ? "" : "localhost") + ":" + brokerPort + ","
                + CONTROLLER_LISTENER + "://localhost:" + controllerPort);
        props.put("advertised.listeners", listener + "://" + hostPort(security == null ? "localhost"
                : security.advertisedHost(), brokerPort));
        props.put("listener.security.protocol.map", protocols);
        props.put("controller.listener.names", CONTROLLER_LISTENER);
        props.put("inter.broker.listener.name", listener);
        props.put("log.dirs", logDir.toAbsolutePath().toString());
        return props;
    }

    /** {@code host:port}, an IPv6 address in brackets. */
    static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static void format(int nodeId, Path logDir, String clusterId, ClusterSecurity security) {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            Formatter formatter = new Formatter();
            if (security != null) {
                // SCRAM users go into the bootstrap metadata: the brokers authenticate each other from the start.
                formatter.setScramArguments(security.scramArguments());
            }
            formatter
                    .setPrintStream(print)
                    .setNodeId(nodeId)
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

    /**
     * Waits until an Admin client on {@code bootstrap} (as {@link ClusterSecurity#ADMIN_USER} when {@code security}
     * is set) sees every one of {@code nodeIds} unfenced.
     */
    static void awaitReady(String bootstrap, Collection<Integer> nodeIds, Duration timeout, long begin,
                           ClusterSecurity security) {
        long deadline = begin + timeout.toNanos();
        Map<String, Object> adminConfig = new java.util.HashMap<>();
        if (security != null) {
            adminConfig.putAll(security.clientProperties(ClusterSecurity.ADMIN_USER));
        }
        adminConfig.putAll(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5_000,
                AdminClientConfig.CLIENT_ID_CONFIG, "embedded-readiness"));
        Exception last = null;
        try (Admin admin = Admin.create(adminConfig)) {
            while (System.nanoTime() < deadline) {
                try {
                    Collection<Node> nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2_000))
                            .nodes().get(3, TimeUnit.SECONDS);
                    // A fenced broker is left out of the node list; once a node is there it can lead partitions.
                    if (nodes.stream().map(Node::id).toList().containsAll(nodeIds)) {
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
        throw new EmbeddedStartException("Kafka on " + bootstrap + " did not show nodes " + nodeIds
                + " in describeCluster within " + timeout.toSeconds() + " s"
                + (last == null ? "" : "; last error: " + last.getMessage()), last);
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
