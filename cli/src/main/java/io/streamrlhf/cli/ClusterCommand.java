package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.embedded.EmbeddedCluster;
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
import picocli.CommandLine.Spec;

/** {@code rlhf cluster ...}: the single-machine Kafka broker and schema registry. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "The single-machine default: an in-process Kafka broker (KRaft) and an Apicurio schema registry.",
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
                    "Start a real single-node Kafka broker (KRaft, in this process) and an Apicurio schema registry (a child "
                            + "process, in-memory storage), create every StreamRLHF topic, then run until SIGTERM or Ctrl-C.",
                    "",
                    "Prints on stdout, once both are healthy and the topics exist:",
                    "  bootstrap=HOST:PORT registry=URL",
                    "  ready",
                    "Progress and the topic report go to stderr."})
    static final class Up implements Callable<Integer> {

        @Option(names = "--data-dir", paramLabel = "DIR",
                description = "Keep the broker's data here across restarts (default: a temporary directory, deleted on exit). "
                        + "The registry keeps its schemas in memory: they are registered again by the first writer.")
        Path dataDir;

        @Option(names = "--kafka-port", paramLabel = "N", defaultValue = "9092",
                description = "Broker port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
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
            err.println("rlhf cluster up: starting Kafka (KRaft) and the schema registry...");
            err.flush();
            EmbeddedCluster cluster = EmbeddedCluster.builder()
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
                settings.put(TopicsConfig.REPLICATION_FACTOR, (short) 1);
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
    }
}
