package io.streamrlhf.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lag of every consumer group of a cluster, read as Kafka's own {@code kafka-consumer-groups.sh --describe}
 * reads it: each partition's committed offset against its end (the last stable offset, as a read_committed reader
 * sees it). {@link #bindTo} exports it as {@code rlhf_consumer_group_lag_records} by group and topic.
 */
public final class ConsumerGroupLag implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConsumerGroupLag.class);

    /** One partition of one group: its committed offset and the partition's end. */
    public record PartitionLag(String group, TopicPartition partition, long committed, long end) {
        /** Records between the group's committed position and the end (never negative). */
        public long lag() {
            return Math.max(0, end - committed);
        }
    }

    private final Admin admin;
    private final Duration timeout;
    private ScheduledExecutorService refresher;

    /** Reads through {@code admin} (the caller's; closed by the caller), each call bounded by {@code timeout}. */
    public ConsumerGroupLag(Admin admin, Duration timeout) {
        this.admin = admin;
        this.timeout = timeout;
    }

    /** Every group's committed partitions, by group then topic and partition. */
    public List<PartitionLag> read() throws InterruptedException, ExecutionException, TimeoutException {
        long ms = timeout.toMillis();
        Collection<ConsumerGroupListing> groups = admin.listConsumerGroups().all().get(ms, TimeUnit.MILLISECONDS);
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new TreeMap<>();
        for (ConsumerGroupListing g : groups) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(g.groupId())
                    .partitionsToOffsetAndMetadata().get(ms, TimeUnit.MILLISECONDS);
            offsets.values().removeIf(o -> o == null);
            if (!offsets.isEmpty()) {
                committed.put(g.groupId(), offsets);
            }
        }
        Map<TopicPartition, OffsetSpec> ask = new HashMap<>();
        committed.values().forEach(m -> m.keySet().forEach(tp -> ask.put(tp, OffsetSpec.latest())));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = ask.isEmpty() ? Map.of()
                : admin.listOffsets(ask, new org.apache.kafka.clients.admin.ListOffsetsOptions(
                        IsolationLevel.READ_COMMITTED)).all().get(ms, TimeUnit.MILLISECONDS);
        List<PartitionLag> out = new ArrayList<>();
        committed.forEach((group, offsets) -> offsets.forEach((tp, o) -> {
            ListOffsetsResult.ListOffsetsResultInfo end = ends.get(tp);
            if (end != null) {
                out.add(new PartitionLag(group, tp, o.offset(), end.offset()));
            }
        }));
        out.sort(Comparator.comparing(PartitionLag::group).thenComparing(l -> l.partition().topic())
                .thenComparingInt(l -> l.partition().partition()));
        return out;
    }

    /** Lag summed over partitions, by group and topic. */
    public static Map<String, Map<String, Long>> byGroupAndTopic(List<PartitionLag> lags) {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        for (PartitionLag l : lags) {
            out.computeIfAbsent(l.group(), g -> new TreeMap<>()).merge(l.partition().topic(), l.lag(), Long::sum);
        }
        return out;
    }

    /**
     * Exports {@code rlhf.consumer.group.lag} (records, by {@code group} and {@code topic}) to {@code meters},
     * refreshed every {@code every} on a daemon thread; a failed read keeps the previous values and is logged.
     */
    public synchronized ConsumerGroupLag bindTo(MeterRegistry meters, Duration every) {
        MultiGauge gauge = MultiGauge.builder("rlhf.consumer.group.lag").baseUnit("records")
                .description("Records between a consumer group's committed offsets and the end of the topic")
                .register(meters);
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "consumer-group-lag");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(() -> {
            try {
                List<MultiGauge.Row<?>> rows = new ArrayList<>();
                byGroupAndTopic(read()).forEach((group, topics) -> topics.forEach((topic, lag) ->
                        rows.add(MultiGauge.Row.of(Tags.of("group", group, "topic", topic), lag))));
                gauge.register(rows, true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                LOG.warn("reading consumer group lag failed: {}", e.toString());
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /** Stops the refreshes (the admin client is the caller's). */
    @Override
    public synchronized void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }
}
