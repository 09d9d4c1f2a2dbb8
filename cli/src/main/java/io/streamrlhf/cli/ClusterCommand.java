package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.MetricsOptions;
import io.streamrlhf.cli.security.ClientConfigFiles;
import io.streamrlhf.embedded.ClusterSecurity;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.embedded.EmbeddedKafkaCluster;
import io.streamrlhf.embedded.EmbeddedRegistry;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.ConsumerGroupLag;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.schemas.security.ComponentAcls;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf cluster ...}: the single-machine Kafka brokers and schema registry. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "The single-machine default: in-process Kafka brokers (KRaft) and an Apicurio schema registry.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Node.class, ClusterCommand.Registry.class})
final class ClusterCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code rlhf cluster up}: start both, create the topics, announce, and run until SIGTERM or Ctrl-C. */
    @Command(name = "up", mixinStandardHelpOptions = true,
            description = {
                    "Start real Kafka brokers (KRaft, in this process; one by default) and an Apicurio schema registry (a "
                            + "child process, in-memory storage), create every StreamRLHF topic, then run until SIGTERM "
                            + "or Ctrl-C.",
                    "",
                    "With --brokers 3 each broker is also a controller (a 3-voter quorum) with its own port and data "
                            + "directory, and every topic gets replication factor 3 and min.insync.replicas 2: one "
                            + "broker may be lost without losing a record or stopping acks=all writes. With one broker "
                            + "both are 1.",
                    "",
                    "With --secure the brokers take TLS with SASL/SCRAM-SHA-512 only, a CA and the broker certificate "
                            + "are made at first start, every component has its own user (worker, scorer, learner, "
                            + "rm-trainer, feedback, evaluator, admin) and Kafka's StandardAuthorizer allows each only "
                            + "its own topics, groups and transactional ids (docs/security.md has the table). One "
                            + "client properties file per component is written; run each command with --config FILE.",
                    "",
                    "With --secure --host NAME (repeatable) the broker certificate also names those hosts (DNS names "
                            + "or IP addresses), the client listener listens on every interface and the brokers "
                            + "advertise the first NAME: clients on other machines reach the brokers as NAME and "
                            + "verify their certificate. The schema registry stays on localhost (docs/security.md "
                            + "says what to put in front of it). A --data-dir made for other hosts is refused; "
                            + "--renew-certificate makes a new CA and certificate for the hosts given (users and "
                            + "passwords kept; every client must take the new truststore).",
                    "",
                    "Prints on stdout, once all are healthy and the topics exist:",
                    "  bootstrap=HOST:PORT[,HOST:PORT...] registry=URL",
                    "  config.COMPONENT=PATH     (with --secure, one line per component and admin)",
                    "  ready",
                    "Progress, the replication in use and the topic report go to stderr."})
    static final class Up implements Callable<Integer> {

        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Keep the brokers' data here across restarts (default: a temporary directory, deleted on "
                        + "exit); with several brokers, broker i in DIR/kafka/node-i. Start it again with the same "
                        + "--brokers. The registry keeps its schemas in memory: they are registered again by the first "
                        + "writer.")
        Path dataDir;

        @Option(names = "--brokers", paramLabel = "N", defaultValue = "1",
                description = "Kafka brokers, each also a KRaft controller (default: ${DEFAULT-VALUE}; 3 for replicated "
                        + "topics, at most " + EmbeddedKafkaCluster.MAX_BROKERS + ").")
        int brokers;

        @Option(names = "--kafka-port", paramLabel = "N", defaultValue = "9092",
                description = "Port of the first broker, the next ones on the following ports; 0 picks free ones "
                        + "(default: ${DEFAULT-VALUE}).")
        int kafkaPort;

        @Option(names = "--registry-port", paramLabel = "N", defaultValue = "8081",
                description = "Schema registry port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
        int registryPort;

        @Option(names = "--topic-prefix", paramLabel = "PREFIX", defaultValue = "rlhf.",
                description = "Prefix of every topic name (default: ${DEFAULT-VALUE}).")
        String topicPrefix;

        @Option(names = "--partitions", paramLabel = "N", defaultValue = "3",
                description = "Partitions of each created topic (default: ${DEFAULT-VALUE}).")
        int partitions;

        @Option(names = "--secure",
                description = "TLS + SASL/SCRAM-SHA-512 listeners, a user per component, least-privilege ACLs; the CA, "
                        + "the users' passwords and their client properties files live in DIR/secure with --data-dir "
                        + "(kept across restarts) or in a temporary directory deleted on exit.")
        boolean secure;

        @Option(names = "--host", paramLabel = "NAME",
                description = "With --secure: a DNS name or IP address under which clients on other machines reach "
                        + "the brokers; repeatable. The broker certificate names each (besides localhost and "
                        + "127.0.0.1), the client listener listens on every interface and the brokers advertise the "
                        + "first. Restarting a --data-dir needs the same hosts (or --renew-certificate). Default: "
                        + "localhost only.")
        List<String> hosts = new ArrayList<>();

        @Option(names = "--renew-certificate",
                description = "With --secure --data-dir: make a new CA and broker certificate for the --host values "
                        + "given (say, when the hosts changed), keeping the users and passwords. The old CA's key "
                        + "was never kept, so every client must take the new truststore (DIR/secure/truststore.p12; "
                        + "the client properties files point at it).")
        boolean renewCertificate;

        @Mixin MetricsOptions metrics;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (brokers < 1 || brokers > EmbeddedKafkaCluster.MAX_BROKERS) {
                throw new ParameterException(spec.commandLine(), "--brokers must be 1.." + EmbeddedKafkaCluster.MAX_BROKERS
                        + ", got " + brokers);
            }
            err.println("rlhf cluster up: starting " + (brokers == 1 ? "a Kafka broker" : brokers + " Kafka brokers")
                    + " (KRaft) and the schema registry...");
            err.flush();
            checkSecurityMatchesDataDir();
            checkHostOptions();
            Path secureDir = !secure ? null
                    : dataDir != null ? dataDir.resolve("secure") : Files.createTempDirectory("rlhf-secure-");
            ClusterSecurity security;
            try {
                security = secureDir == null ? null : renewCertificate
                        ? ClusterSecurity.renewCertificate(secureDir, ComponentAcls.Component.users(), hosts)
                        : ClusterSecurity.createOrLoad(secureDir, ComponentAcls.Component.users(), hosts);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            if (security != null) {
                err.println("rlhf cluster up: secure: " + (security.createdNow() ? "made a new CA, broker certificate "
                        + "and SCRAM users in " : security.renewedNow() ? "made a new CA and broker certificate "
                        + "(users and passwords kept) in " : "read the CA, certificate and users from ") + secureDir
                        + "; the certificate names " + security.certificateNames() + ", the brokers advertise "
                        + security.advertisedHost());
                if (security.renewedNow()) {
                    err.println("rlhf cluster up: secure: the CA changed: every client must take the new truststore "
                            + security.truststore() + " (the client properties files point at it)");
                }
            }
            EmbeddedCluster cluster = EmbeddedCluster.builder()
                    .brokers(brokers)
                    .dataDir(dataDir)
                    .kafkaPort(kafkaPort)
                    .registryPort(registryPort)
                    .security(security)
                    .start();
            CountDownLatch stopped = new CountDownLatch(1);
            // SIGTERM and Ctrl-C run shutdown hooks; this one stops both servers before the JVM exits.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    cluster.close();
                } finally {
                    if (secure && dataDir == null) {
                        deleteQuietly(secureDir);
                    }
                    stopped.countDown();
                }
            }, "rlhf-cluster-shutdown"));
            Map<String, String> adminSecurity = security == null ? Map.of()
                    : security.clientProperties(ClusterSecurity.ADMIN_USER);
            Map<String, Path> configFiles = new LinkedHashMap<>();
            try {
                Map<String, Object> settings = new HashMap<>(adminSecurity);
                settings.put(CommonConfig.BOOTSTRAP_SERVERS, cluster.bootstrapServers());
                settings.put(CommonConfig.SCHEMA_REGISTRY_URL, cluster.registryUrl());
                settings.put(TopicsConfig.PREFIX, topicPrefix);
                settings.put(TopicsConfig.PARTITIONS, partitions);
                settings.put(TopicsConfig.REPLICATION_FACTOR, cluster.replicationFactor());
                settings.put(TopicsConfig.MIN_INSYNC_REPLICAS, cluster.minInsyncReplicas());
                err.println(replicationLine(brokers, cluster.replicationFactor(), cluster.minInsyncReplicas()));
                TopicsCommand.print(TopicsCommand.createTopics(settings), err);
                if (security != null) {
                    try (Admin admin = Admin.create(TopicsCommand.adminProperties(settings))) {
                        int acls = ComponentAcls.apply(admin, Topics.create(settings), Duration.ofSeconds(60));
                        err.println("rlhf cluster up: secure: " + acls + " ACLs for "
                                + ComponentAcls.Component.users() + "; super users admin and broker");
                    }
                    configFiles.putAll(ClientConfigFiles.write(secureDir.resolve("clients"), security,
                            cluster.bootstrapServers(), cluster.registryUrl(), topicPrefix));
                }
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
            err.printf("rlhf cluster up: started in %.1f s; stop with Ctrl-C or SIGTERM.%n",
                    cluster.startupMillis() / 1000.0);
            err.flush();
            out.println("bootstrap=" + cluster.bootstrapServers() + " registry=" + cluster.registryUrl());
            configFiles.forEach((user, file) -> out.println("config." + user + "=" + file.toAbsolutePath()));
            Map<String, Object> lagAdmin = new HashMap<>(adminSecurity);
            lagAdmin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
            // The cluster's view for Prometheus: every consumer group's lag, read as kafka-consumer-groups.sh does.
            try (ServiceMeters meters = ServiceMeters.create("cluster");
                 Admin admin = Admin.create(lagAdmin);
                 ConsumerGroupLag lag = new ConsumerGroupLag(admin, Duration.ofSeconds(10))
                         .bindTo(meters.component("cluster"), Duration.ofSeconds(5));
                 MetricsOptions.Serving endpoint = metrics.serve(meters, new HealthChecks()
                         .ready("connected", BrokerConnection.check(admin::metrics)), out)) {
                out.println("ready");
                out.flush();
                stopped.await();
            }
            return 0;
        }

        /** --host and --renew-certificate are about the broker certificate, which only --secure makes. */
        private void checkHostOptions() {
            if (!secure && (!hosts.isEmpty() || renewCertificate)) {
                throw new ParameterException(spec.commandLine(), (hosts.isEmpty() ? "--renew-certificate renews"
                        : "--host names") + " the broker certificate, which only --secure makes: a plaintext cluster "
                        + "listens on localhost only; add --secure");
            }
            if (renewCertificate && dataDir == null) {
                throw new ParameterException(spec.commandLine(), "--renew-certificate renews the certificate kept in "
                        + "--data-dir DIR/secure; without --data-dir every start makes a new CA and certificate");
            }
            try {
                ClusterSecurity.checkHosts(hosts);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--host: " + e.getMessage());
            }
        }

        /**
         * A data directory keeps the security it was formatted with: SCRAM users live in its metadata and the ACLs
         * would silently stop applying without the authorizer.
         */
        private void checkSecurityMatchesDataDir() {
            if (dataDir == null) {
                return;
            }
            boolean madeSecure = Files.isRegularFile(dataDir.resolve("secure").resolve("users.properties"));
            Path kafka = dataDir.resolve("kafka");
            boolean formatted = Files.isRegularFile(kafka.resolve("meta.properties"))
                    || Files.isRegularFile(kafka.resolve("node-1").resolve("meta.properties"));
            if (madeSecure && !secure) {
                throw new ParameterException(spec.commandLine(), "data directory " + dataDir + " was made with --secure "
                        + "(its users and ACLs are in " + dataDir.resolve("secure") + "); start it with --secure");
            }
            if (secure && formatted && !madeSecure) {
                throw new ParameterException(spec.commandLine(), "data directory " + dataDir + " was formatted "
                        + "without --secure, so it has no SCRAM users; start --secure on a new data directory");
            }
        }

        private static void deleteQuietly(Path dir) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (java.io.IOException | RuntimeException e) {
                // A temporary directory left behind holds only this run's secrets, readable by its owner.
            }
        }

        /** What a loss of one broker means for the topics, in one line. */
        static String replicationLine(int brokers, short replicationFactor, int minInsyncReplicas) {
            String what = "rlhf cluster up: " + brokers + (brokers == 1 ? " broker" : " brokers")
                    + ": every topic gets replication factor " + replicationFactor + " and min.insync.replicas "
                    + minInsyncReplicas;
            if (replicationFactor == 1) {
                return what + " (one copy of each record: use --brokers 3 for 3 and 2)";
            }
            return what + " (writes and reads go on with " + (replicationFactor - minInsyncReplicas)
                    + " broker(s) down)";
        }
    }

    /**
     * {@code rlhf cluster node}: one Kafka node of a cluster whose nodes are processes of their own (what {@code rlhf
     * stack up --brokers 3} runs, so that one broker can be killed and restarted alone).
     */
    @Command(name = "node", mixinStandardHelpOptions = true,
            description = {
                    "Run one Kafka node (a combined KRaft broker and controller) of a cluster of --brokers nodes that "
                            + "run as processes of their own on this machine, until SIGTERM or Ctrl-C.",
                    "",
                    "Node i listens on --kafka-port + i - 1 and --controller-port + i - 1 and keeps its data in "
                            + "DIR/kafka/node-i (the layout of 'rlhf cluster up --brokers N --data-dir DIR'): started "
                            + "again on the same directory it rejoins the cluster and catches up. Topics get "
                            + "replication factor min(N, 3) and min.insync.replicas one less. Every node needs a "
                            + "majority of them running to start. 'rlhf stack up --brokers 3' runs one per broker.",
                    "",
                    "Prints on stdout, once the node is in the cluster:",
                    "  bootstrap=localhost:PORT node=ID",
                    "  ready"})
    static final class Node implements Callable<Integer> {

        @Option(names = "--node-id", paramLabel = "ID", required = true,
                description = "This node's id, 1..--brokers.")
        int nodeId;

        @Option(names = "--brokers", paramLabel = "N", required = true,
                description = "Nodes in the cluster, 2.." + EmbeddedKafkaCluster.MAX_BROKERS + " (each a voter of the "
                        + "controller quorum).")
        int brokers;

        @Option(names = "--kafka-port", paramLabel = "N", required = true,
                description = "Client port of node 1; node i listens on N + i - 1.")
        int kafkaPort;

        @Option(names = "--controller-port", paramLabel = "N", required = true,
                description = "Controller (Raft) port of node 1; node i listens on N + i - 1.")
        int controllerPort;

        @Option(names = "--data-dir", paramLabel = "DIR", required = true,
                description = "The cluster's data directory; this node's data is in DIR/kafka/node-ID.")
        Path dataDir;

        @Option(names = "--cluster-id", paramLabel = "ID", required = true,
                description = "The cluster id every node formats new storage with (an existing directory must carry "
                        + "it).")
        String clusterId;

        @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "180",
                description = "How long to wait for the quorum and this node to join (default: ${DEFAULT-VALUE}).")
        int startTimeoutS;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (startTimeoutS < 1) {
                throw new ParameterException(spec.commandLine(), "--start-timeout must be >= 1, got " + startTimeoutS);
            }
            EmbeddedKafkaBroker node;
            try {
                node = EmbeddedKafkaCluster.startNode(nodeId, brokers, dataDir.resolve("kafka"), kafkaPort,
                        controllerPort, clusterId, Duration.ofSeconds(startTimeoutS));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            CountDownLatch stopped = new CountDownLatch(1);
            // SIGTERM: a controlled shutdown (its partitions' leadership moves to the other nodes first).
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    node.close();
                } finally {
                    stopped.countDown();
                }
            }, "rlhf-cluster-node-shutdown"));
            err.printf("rlhf cluster node: node %d of %d started in %.1f s (%s storage in %s)%n", nodeId, brokers,
                    node.startupMillis() / 1000.0, node.formattedOnStart() ? "new" : "existing", node.logDir());
            err.flush();
            out.println("bootstrap=" + node.bootstrapServers() + " node=" + nodeId);
            out.println("ready");
            out.flush();
            stopped.await();
            return 0;
        }
    }

    /** {@code rlhf cluster registry}: the schema registry alone, beside brokers run by {@code rlhf cluster node}. */
    @Command(name = "registry", mixinStandardHelpOptions = true,
            description = {
                    "Run the Apicurio schema registry (a child process) alone, until SIGTERM or Ctrl-C: the part of "
                            + "'rlhf cluster up' that is not Kafka, for clusters whose brokers run as 'rlhf cluster "
                            + "node' processes. With --data-dir its schemas (and so their ids) persist in "
                            + "DIR/registry.",
                    "",
                    "Prints on stdout, once it serves:",
                    "  registry=URL",
                    "  ready"})
    static final class Registry implements Callable<Integer> {

        @Option(names = "--registry-port", paramLabel = "N", defaultValue = "8081",
                description = "Its port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
        int registryPort;

        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Keep the schemas in DIR/registry (default: in memory).")
        Path dataDir;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            EmbeddedRegistry registry = EmbeddedRegistry.builder().port(registryPort)
                    .storageDir(dataDir == null ? null : dataDir.resolve("registry")).start();
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    registry.close();
                } finally {
                    stopped.countDown();
                }
            }, "rlhf-cluster-registry-shutdown"));
            out.println("registry=" + registry.url());
            out.println("ready");
            out.flush();
            stopped.await();
            return 0;
        }
    }
}
