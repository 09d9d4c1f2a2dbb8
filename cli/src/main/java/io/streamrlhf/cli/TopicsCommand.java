package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.schemas.topics.TopicCreationReport;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code rlhf topics create|list}: the topic catalog on any cluster. */
@Command(name = "topics", mixinStandardHelpOptions = true,
        description = "Create or list StreamRLHF's topics on a Kafka cluster.",
        subcommands = {TopicsCommand.Create.class, TopicsCommand.ListTopics.class})
final class TopicsCommand implements Runnable {

    static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** What {@code topics create} did: the topics, and the subjects registered under BACKWARD compatibility. */
    record Setup(TopicCreationReport topics, Map<String, Integer> subjects) {
    }

    /**
     * Creates every topic of the catalog described by {@code settings} and registers every contract's schema with
     * BACKWARD compatibility on its subject (registries such as Apicurio enforce no rule until one is set); both
     * steps are idempotent.
     */
    static Setup createTopics(Map<String, Object> settings) {
        Topics topics = Topics.create(settings);
        TopicCreationReport report;
        try (Admin admin = Admin.create(adminProperties(settings))) {
            report = new TopicCreator(admin, ADMIN_TIMEOUT).create(topics.all());
        }
        return new Setup(report, topics.registerSchemas());
    }

    /** The Admin client's share of the settings (registry and topic keys dropped), with timeouts that fail fast. */
    static Map<String, Object> adminProperties(Map<String, Object> settings) {
        Set<String> adminKeys = AdminClientConfig.configNames();
        Map<String, Object> props = new TreeMap<>();
        settings.forEach((k, v) -> {
            if (adminKeys.contains(k)) {
                props.put(k, v);
            }
        });
        // Fail in seconds, with a message, when nothing listens at the bootstrap address.
        props.putIfAbsent(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ADMIN_TIMEOUT.toMillis());
        props.putIfAbsent(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return props;
    }

    /** Prints what was set up as a table of topic and status, for people. */
    static void print(Setup setup, PrintWriter out) {
        TopicCreationReport report = setup.topics();
        Map<String, String> status = new TreeMap<>();
        report.created().forEach(t -> status.put(t, "created"));
        report.existing().forEach(t -> status.put(t, "exists"));
        report.partitionMismatches().forEach((t, m) ->
                status.put(t, "exists, " + m.actual() + " partitions (catalog says " + m.expected()
                        + "; left unchanged)"));
        int width = status.keySet().stream().mapToInt(String::length).max().orElse(5);
        status.forEach((t, s) -> out.printf("  %-" + width + "s  %s%n", t, s));
        out.println(report.summary() + "; " + setup.subjects().size()
                + " schema subject(s) registered with BACKWARD compatibility");
        out.flush();
    }

    /** {@code rlhf topics create}. */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create every topic of the catalog (idempotent): data topics, their dead-letter topics, the "
                    + "compacted *.versions topics, checkpoints and metrics.",
                    "Existing topics are left unchanged; a partition count that differs from the catalog is reported."})
    static final class Create implements Callable<Integer> {
        @Mixin CommonOptions common;
        @Spec CommandSpec spec;

        @Override
        public Integer call() {
            CommonConfig config = common.resolve();
            Map<String, Object> settings = config.settings();
            settings.putAll(config.clientProperties());
            print(createTopics(settings), spec.commandLine().getOut());
            return 0;
        }
    }

    /** {@code rlhf topics list}. */
    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the cluster's topics with partitions, cleanup policy and retention; catalog topics that "
                    + "do not exist are listed as missing.")
    static final class ListTopics implements Callable<Integer> {
        @Mixin CommonOptions common;

        @Option(names = "--all", description = "Also list topics outside the catalog (other prefixes, internal topics).")
        boolean all;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            CommonConfig config = common.resolve();
            Topics catalog = Topics.create(config.settings());
            Set<String> catalogNames = catalog.all().stream().map(TopicSpec::name)
                    .collect(Collectors.toCollection(TreeSet::new));
            PrintWriter out = spec.commandLine().getOut();
            try (Admin admin = Admin.create(adminProperties(config.clientProperties()))) {
                Set<String> existing = new TreeSet<>(get(admin.listTopics(new ListTopicsOptions().listInternal(all)).names(),
                        config.bootstrapServers()));
                List<String> shown = new ArrayList<>();
                for (String name : existing) {
                    if (all || catalogNames.contains(name)) {
                        shown.add(name);
                    }
                }
                Map<String, TopicDescription> descriptions = shown.isEmpty() ? Map.of()
                        : get(admin.describeTopics(shown).allTopicNames(), config.bootstrapServers());
                Map<ConfigResource, Config> configs = shown.isEmpty() ? Map.of()
                        : get(admin.describeConfigs(resources(shown)).all(), config.bootstrapServers());
                int width = Math.max(5, Math.max(
                        shown.stream().mapToInt(String::length).max().orElse(0),
                        catalogNames.stream().mapToInt(String::length).max().orElse(0)));
                String row = "%-" + width + "s  %10s  %-8s  %-14s  %s%n";
                out.printf(row, "TOPIC", "PARTITIONS", "CLEANUP", "RETENTION", "CATALOG");
                for (String name : shown) {
                    Config c = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, name));
                    out.printf(row, name, descriptions.get(name).partitions().size(),
                            value(c, TopicConfig.CLEANUP_POLICY_CONFIG),
                            // retention.ms only applies when the cleanup policy deletes old segments
                            value(c, TopicConfig.CLEANUP_POLICY_CONFIG).contains(TopicConfig.CLEANUP_POLICY_DELETE)
                                    ? retention(value(c, TopicConfig.RETENTION_MS_CONFIG)) : "-",
                            catalogNames.contains(name) ? "yes" : "no");
                }
                int missing = 0;
                for (String name : catalogNames) {
                    if (!existing.contains(name)) {
                        out.printf(row, name, "-", "-", "-", "MISSING");
                        missing++;
                    }
                }
                out.printf("%d topic(s) listed; %d catalog topic(s) missing%s%n", shown.size(), missing,
                        missing > 0 ? " (create them with 'rlhf topics create')" : "");
                return 0;
            }
        }

        private static Collection<ConfigResource> resources(List<String> names) {
            return names.stream().map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
        }

        private static String value(Config config, String key) {
            ConfigEntry entry = config == null ? null : config.get(key);
            return entry == null || entry.value() == null ? "?" : entry.value();
        }

        private static String retention(String millis) {
            try {
                long ms = Long.parseLong(millis);
                if (ms < 0) {
                    return "forever";
                }
                Duration d = Duration.ofMillis(ms);
                return d.toHours() % 24 == 0 && d.toDays() > 0 ? d.toDays() + "d" : d.toHours() + "h";
            } catch (NumberFormatException e) {
                return millis;
            }
        }
    }

    /** Waits for an Admin result, turning a timeout into a message that names the cluster. */
    static <T> T get(org.apache.kafka.common.KafkaFuture<T> future, String bootstrap) throws InterruptedException {
        try {
            return future.get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new KafkaException("Kafka at " + bootstrap + " refused the request: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("no answer from Kafka at " + bootstrap + " within " + ADMIN_TIMEOUT.toSeconds()
                    + " s: is a broker running there? (start one with 'rlhf cluster up')");
        }
    }
}
