package io.streamrlhf.schemas.topics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the topics of a catalog through an {@link Admin} client, idempotently: topics that exist are left
 * alone and reported (with a flag when their partition count differs from the spec), missing ones are created
 * with the spec's partitions, replication and configs. A topic created concurrently by someone else between
 * the listing and the creation counts as existing. The caller owns the {@code Admin} client.
 */
public final class TopicCreator {
    private static final Logger log = LoggerFactory.getLogger(TopicCreator.class);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final Admin admin;
    private final Duration timeout;

    public TopicCreator(Admin admin) {
        this(admin, DEFAULT_TIMEOUT);
    }

    public TopicCreator(Admin admin, Duration timeout) {
        this.admin = Objects.requireNonNull(admin, "admin");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /**
     * Ensures every spec's topic exists.
     *
     * @throws KafkaException naming the topic when the cluster refuses a creation or does not answer in time
     */
    public TopicCreationReport create(Collection<? extends TopicSpec<?, ?>> specs) {
        Map<String, TopicSpec<?, ?>> byName = new LinkedHashMap<>();
        for (TopicSpec<?, ?> spec : specs) {
            byName.putIfAbsent(spec.name(), spec);
        }
        Set<String> present = await(admin.listTopics(new ListTopicsOptions().listInternal(false)).names(),
                "list topics");
        List<String> created = new ArrayList<>();
        List<String> existing = new ArrayList<>();
        List<NewTopic> toCreate = new ArrayList<>();
        for (TopicSpec<?, ?> spec : byName.values()) {
            if (present.contains(spec.name())) {
                existing.add(spec.name());
            } else {
                toCreate.add(spec.toNewTopic());
            }
        }
        if (!toCreate.isEmpty()) {
            CreateTopicsResult result = admin.createTopics(toCreate,
                    new CreateTopicsOptions().timeoutMs((int) timeout.toMillis()));
            for (NewTopic topic : toCreate) {
                try {
                    result.values().get(topic.name()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    created.add(topic.name());
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) {
                        existing.add(topic.name());
                    } else {
                        throw new KafkaException("Cannot create topic " + topic.name() + " (" + topic.numPartitions()
                                + " partitions, configs " + topic.configs() + "): " + e.getCause(), e.getCause());
                    }
                } catch (TimeoutException e) {
                    throw new KafkaException("Cluster did not confirm creation of topic " + topic.name() + " within "
                            + timeout, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new KafkaException("Interrupted while creating topic " + topic.name(), e);
                }
            }
        }
        Map<String, TopicCreationReport.PartitionMismatch> mismatches = new LinkedHashMap<>();
        if (!existing.isEmpty()) {
            Map<String, TopicDescription> descriptions = await(admin.describeTopics(existing).allTopicNames(),
                    "describe topics " + existing);
            for (String name : existing) {
                int expected = byName.get(name).partitions();
                int actual = descriptions.get(name).partitions().size();
                if (expected != actual) {
                    mismatches.put(name, new TopicCreationReport.PartitionMismatch(expected, actual));
                    log.warn("Topic {} exists with {} partitions; the catalog asks for {}. Left unchanged.", name,
                            actual, expected);
                }
            }
        }
        // Report in request order, whichever branch a topic went through.
        List<String> order = new ArrayList<>(byName.keySet());
        created.sort((a, b) -> Integer.compare(order.indexOf(a), order.indexOf(b)));
        existing.sort((a, b) -> Integer.compare(order.indexOf(a), order.indexOf(b)));
        TopicCreationReport report = new TopicCreationReport(created, existing, mismatches);
        log.info("Topics: {}", report.summary());
        return report;
    }

    private <T> T await(org.apache.kafka.common.KafkaFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new KafkaException("Cannot " + what + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("Cluster did not answer '" + what + "' within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("Interrupted while trying to " + what, e);
        }
    }
}
