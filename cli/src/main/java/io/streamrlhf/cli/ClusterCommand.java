package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.EmbeddedKafkaCluster;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code rlhf cluster ...}: the single-machine Kafka brokers and schema registry. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "The single-machine default: in-process Kafka brokers (KRaft) and an Apicurio schema registry.",
        subcommands = ClusterCommand.Up.class)
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
                    "Prints on stdout, once all are healthy and the topics exist:",
                    "  bootstrap=HOST:PORT[,HOST:PORT...] registry=URL",
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
            EmbeddedCluster cluster = EmbeddedCluster.builder()
                    .brokers(brokers)
                    .dataDir(dataDir)
                    .kafkaPort(kafkaPort)
                    .registryPort(registryPort)
                    .start();
            CountDownLatch stopped = new CountDownLatch(1);
            // SIGTERM and Ctrl-C run shutdown hooks; this one stops both servers before the JVM exits.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    cluster.close();
                } finally {
                    stopped.countDown();
                }
            }, "rlhf-cluster-shutdown"));
            try {
                Map<String, Object> settings = new HashMap<>();
                settings.put(CommonConfig.BOOTSTRAP_SERVERS, cluster.bootstrapServers());
                settings.put(CommonConfig.SCHEMA_REGISTRY_URL, cluster.registryUrl());
                settings.put(TopicsConfig.PREFIX, topicPrefix);
                settings.put(TopicsConfig.PARTITIONS, partitions);
                settings.put(TopicsConfig.REPLICATION_FACTOR, cluster.replicationFactor());
                settings.put(TopicsConfig.MIN_INSYNC_REPLICAS, cluster.minInsyncReplicas());
                err.println(replicationLine(brokers, cluster.replicationFactor(), cluster.minInsyncReplicas()));
                TopicsCommand.print(TopicsCommand.createTopics(settings), err);
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
            err.printf("rlhf cluster up: started in %.1f s; stop with Ctrl-C or SIGTERM.%n",
                    cluster.startupMillis() / 1000.0);
            err.flush();
            out.println("bootstrap=" + cluster.bootstrapServers() + " registry=" + cluster.registryUrl());
            out.println("ready");
            out.flush();
            stopped.await();
            return 0;
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
}
