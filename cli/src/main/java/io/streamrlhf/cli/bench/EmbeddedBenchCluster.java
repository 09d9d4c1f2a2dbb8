package io.streamrlhf.cli.bench;

import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.embedded.ClusterSecurity;
import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.schemas.bench.BenchCluster;
import io.streamrlhf.schemas.security.ComponentAcls;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.acl.AclBinding;

/**
 * The clusters {@code rlhf bench} runs its Kafka benchmarks on: by default an embedded broker with its data in a
 * temporary directory, an in-process registry (a benchmark measures its component, not registry round trips, which
 * are cached anyway), and every catalog topic under {@code bench.} with one partition. {@link #startSecure()} is the
 * same broker with TLS, SCRAM users and the components' ACLs; {@link #onCluster} a cluster someone else runs, as a
 * {@code --config} file describes it.
 */
final class EmbeddedBenchCluster {

    static final String PREFIX = "bench.";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private EmbeddedBenchCluster() {
    }

    /** Starts the broker and creates the topics; closing the result stops the broker. */
    static BenchCluster start() {
        EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start();
        try {
            CatalogTopics catalog = CatalogTopics.on(broker.bootstrapServers(), "mock://bench-" + UUID.randomUUID())
                    .prefix(PREFIX).partitions(1).timeout(TIMEOUT).create();
            return BenchCluster.of(catalog, broker::close);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    /**
     * Starts the broker as {@code rlhf cluster up --secure} does (TLS, SASL/SCRAM-SHA-512, StandardAuthorizer),
     * creates the topics and the components' ACLs as {@code admin}; the measured component runs as its own user, the
     * bench's other clients as {@code admin}. Closing stops the broker and deletes the CA and passwords.
     */
    static BenchCluster startSecure() {
        Path secrets;
        try {
            secrets = Files.createTempDirectory("rlhf-bench-secure-");
        } catch (IOException e) {
            throw new UncheckedIOException("could not make a directory for the bench cluster's CA", e);
        }
        ClusterSecurity security = ClusterSecurity.createOrLoad(secrets, ComponentAcls.Component.users());
        EmbeddedKafkaBroker broker;
        try {
            broker = EmbeddedKafkaBroker.builder().security(security).start();
        } catch (RuntimeException e) {
            deleteRecursively(secrets);
            throw e;
        }
        Runnable release = () -> {
            try {
                broker.close();
            } finally {
                deleteRecursively(secrets);
            }
        };
        try {
            Map<String, Object> admin = new HashMap<>(security.clientProperties(ClusterSecurity.ADMIN_USER));
            admin.put(CommonConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            return secured(admin, user -> {
                Map<String, Object> settings = new HashMap<>(security.clientProperties(user));
                settings.put(CommonConfig.BOOTSTRAP_SERVERS, broker.bootstrapServers());
                return settings;
            }, PREFIX, release);
        } catch (RuntimeException e) {
            release.run();
            throw e;
        }
    }

    /**
     * The cluster {@code config} describes (a component's properties file, as {@code rlhf cluster up --secure}
     * writes them): the catalog is created under a prefix of its own ({@code bench-XXXXXXXX.}) with {@code
     * adminConfig}'s credentials, with the components' ACLs when the file authenticates (SASL), and deleted on close.
     * The measured component runs with {@code config}'s settings, the bench's other clients with
     * {@code adminConfig}'s.
     */
    static BenchCluster onCluster(Path config, Path adminConfig) {
        Map<String, Object> component = resolve(config);
        Map<String, Object> admin = resolve(adminConfig);
        String prefix = "bench-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        boolean authenticated = String.valueOf(admin.get("security.protocol")).startsWith("SASL");
        if (!authenticated) {
            return plain(admin, component, prefix);
        }
        return secured(admin, user -> component, prefix, () -> { });
    }

    /** {@code admin.properties} beside {@code config} when there is one, else {@code config} itself. */
    static Path adminConfigBeside(Path config) {
        Path beside = config.toAbsolutePath().resolveSibling(ClusterSecurity.ADMIN_USER + ".properties");
        return Files.isRegularFile(beside) ? beside : config;
    }

    private static BenchCluster plain(Map<String, Object> admin, Map<String, Object> component, String prefix) {
        CatalogTopics catalog = catalog(admin, prefix);
        return BenchCluster.of(catalog, user -> component, () -> deleteTopics(admin, catalog));
    }

    private static BenchCluster secured(Map<String, Object> admin,
                                        java.util.function.Function<String, Map<String, Object>> componentSettings,
                                        String prefix, Runnable release) {
        CatalogTopics catalog = catalog(admin, prefix);
        try (Admin client = Admin.create(adminOnly(admin))) {
            ComponentAcls.apply(client, catalog.topics(), TIMEOUT);
        }
        Map<String, Object> registry = Map.of(CommonConfig.SCHEMA_REGISTRY_URL,
                catalog.settings().get(CommonConfig.SCHEMA_REGISTRY_URL), "topic.prefix", prefix);
        return BenchCluster.of(catalog, user -> {
            Map<String, Object> settings = new HashMap<>(catalog.settings());
            // Only the component's credentials replace the admin's: the catalog keys stay the bench's own.
            settings.keySet().removeIf(k -> k.startsWith("sasl.") || k.startsWith("ssl.")
                    || k.equals("security.protocol"));
            componentSettings.apply(user).forEach((k, v) -> {
                if (k.startsWith("sasl.") || k.startsWith("ssl.") || k.equals("security.protocol")) {
                    settings.put(k, v);
                }
            });
            settings.putAll(registry);
            return settings;
        }, () -> {
            try (Admin client = Admin.create(adminOnly(admin))) {
                client.deleteAcls(ComponentAcls.bindings(catalog.topics()).stream().map(AclBinding::toFilter).toList())
                        .all().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("rlhf bench: could not delete the bench's ACLs: " + e.getMessage());
            }
            try {
                deleteTopics(admin, catalog);
            } finally {
                release.run();
            }
        });
    }

    private static CatalogTopics catalog(Map<String, Object> admin, String prefix) {
        CatalogTopics.Builder builder = CatalogTopics.on(String.valueOf(admin.get(CommonConfig.BOOTSTRAP_SERVERS)),
                "mock://bench-" + UUID.randomUUID()).prefix(prefix).partitions(1).timeout(TIMEOUT);
        admin.forEach((k, v) -> {
            if (k.startsWith("sasl.") || k.startsWith("ssl.") || k.equals("security.protocol")) {
                builder.setting(k, v);
            }
        });
        return builder.create();
    }

    private static Map<String, Object> resolve(Path file) {
        CommonConfig config = CommonConfig.resolve(Map.of(), System.getenv(), file);
        Map<String, Object> settings = config.settings();
        settings.putAll(config.clientProperties());
        return settings;
    }

    private static Map<String, Object> adminOnly(Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>(settings);
        props.keySet().retainAll(AdminClientConfig.configNames());
        return props;
    }

    /** Deletes the bench's topics on a cluster that outlives the bench; a failure leaves them (they are named). */
    private static void deleteTopics(Map<String, Object> admin, CatalogTopics catalog) {
        try (Admin client = Admin.create(adminOnly(admin))) {
            client.deleteTopics(catalog.topics().all().stream().map(TopicSpec::name).toList()).all()
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            System.err.println("rlhf bench: could not delete the bench topics " + catalog.topics().prefix() + "*: "
                    + e.getMessage());
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // A temporary directory left behind holds only this run's secrets, readable by its owner.
        }
    }
}
