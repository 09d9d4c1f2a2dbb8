package io.streamrlhf.evaluator.replay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a {@link TopicRange} of every partition of a topic and hands the records to a sink, batch by batch.
 *
 * <p>The consumer has no {@code group.id} and uses only {@code assign} and {@code seek}: it joins no group, commits
 * nothing and cannot disturb the offsets of the services reading the same topic. It reads with
 * {@code isolation.level=read_committed}, so records of aborted transactions are never evaluated, and the end of an
 * open-ended range is the last stable offset when the replay begins, so the replay finishes even while producers
 * keep writing.
 *
 * <pre>{@code
 * TopicReplayer replayer = new TopicReplayer(Map.of("bootstrap.servers", "localhost:9092"));
 * ReplaySummary summary = replayer.replay(new TopicRange("rlhf.generations", ReplayBound.offset(100),
 *         ReplayBound.edge()), keyDeserializer, valueDeserializer, batch -> evaluate(batch));
 * }</pre>
 */
public final class TopicReplayer {
    private static final Logger LOG = LoggerFactory.getLogger(TopicReplayer.class);

    /** How long without any progress before the replay gives up. */
    public static final Duration DEFAULT_STALL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration METADATA_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> consumerConfig;
    private final Duration stallTimeout;

    /** A replayer over a cluster: {@code bootstrap.servers} plus any security settings. */
    public TopicReplayer(Map<String, ?> clientConfig) {
        this(clientConfig, DEFAULT_STALL_TIMEOUT);
    }

    /** A replayer that fails when no record and no position change arrives for {@code stallTimeout}. */
    public TopicReplayer(Map<String, ?> clientConfig, Duration stallTimeout) {
        Map<String, Object> config = new HashMap<>(clientConfig);
        if (config.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG) == null) {
            throw new IllegalArgumentException("replay needs bootstrap.servers");
        }
        // No group: nothing to join, nothing committed, nobody else's offsets touched.
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        // Asking for a missing topic's partitions must not create it.
        config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        config.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "rlhf-replay-" + UUID.randomUUID().toString().substring(0, 8));
        // Keys the serdes read (schema.registry.url, ...) are not consumer configs; keep the client quiet about them.
        config.keySet().removeIf(k -> !ConsumerConfig.configNames().contains(k) && !k.startsWith("sasl.")
                && !k.startsWith("ssl.") && !k.startsWith("security."));
        this.consumerConfig = config;
        this.stallTimeout = Objects.requireNonNull(stallTimeout, "stallTimeout");
    }

    /** Resolves the range on every partition without reading records. */
    public List<PartitionRange> resolve(TopicRange range) {
        try (KafkaConsumer<byte[], byte[]> consumer = bytesConsumer()) {
            return resolve(consumer, range);
        }
    }

    /**
     * Replays the range.
     *
     * @param sink receives the records in batches (each in offset order per partition); it runs on the calling thread
     * @throws KafkaException naming the topic when it does not exist or the replay stalls
     */
    public <K, V> ReplaySummary replay(TopicRange range, Deserializer<K> keyDeserializer,
                                       Deserializer<V> valueDeserializer, Consumer<List<ConsumerRecord<K, V>>> sink) {
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(consumerConfig, keyDeserializer, valueDeserializer)) {
            return replay(consumer, range.topic(), resolve(consumer, range), sink);
        }
    }

    /**
     * Replays explicit per-partition ranges (for instance what {@link RmbTopic#publish} added); partitions not listed
     * are not read.
     */
    public <K, V> ReplaySummary replay(String topic, List<PartitionRange> ranges, Deserializer<K> keyDeserializer,
                                       Deserializer<V> valueDeserializer, Consumer<List<ConsumerRecord<K, V>>> sink) {
        try (KafkaConsumer<K, V> consumer = new KafkaConsumer<>(consumerConfig, keyDeserializer, valueDeserializer)) {
            return replay(consumer, topic, ranges, sink);
        }
    }

    private <K, V> ReplaySummary replay(KafkaConsumer<K, V> consumer, String topic, List<PartitionRange> ranges,
                                        Consumer<List<ConsumerRecord<K, V>>> sink) {
        long started = System.nanoTime();
        Map<TopicPartition, Long> ends = new LinkedHashMap<>();
        Map<Integer, Long> counts = new TreeMap<>();
        for (PartitionRange r : ranges) {
            counts.put(r.partition(), 0L);
            if (!r.isEmpty()) {
                ends.put(new TopicPartition(topic, r.partition()), r.end());
            }
        }
        consumer.assign(ends.keySet());
        for (PartitionRange r : ranges) {
            if (!r.isEmpty()) {
                consumer.seek(new TopicPartition(topic, r.partition()), r.start());
            }
        }
        LOG.info("replaying {}: {}", topic, ranges);
        long lastProgress = System.nanoTime();
        Map<TopicPartition, Long> positions = new HashMap<>();
        while (!ends.isEmpty()) {
            ConsumerRecords<K, V> polled = consumer.poll(POLL);
            List<ConsumerRecord<K, V>> batch = new ArrayList<>(polled.count());
            for (TopicPartition tp : polled.partitions()) {
                Long end = ends.get(tp);
                for (ConsumerRecord<K, V> record : polled.records(tp)) {
                    if (end != null && record.offset() < end) {
                        batch.add(record);
                        counts.merge(tp.partition(), 1L, Long::sum);
                    }
                }
            }
            boolean progressed = !batch.isEmpty();
            // Positions move past transaction markers and aborted records too; a partition is done once its
            // position reaches the end offset.
            for (TopicPartition tp : new ArrayList<>(ends.keySet())) {
                long position = consumer.position(tp, METADATA_TIMEOUT);
                Long before = positions.put(tp, position);
                progressed |= before == null || before != position;
                if (position >= ends.get(tp)) {
                    ends.remove(tp);
                    consumer.pause(List.of(tp));
                }
            }
            if (!batch.isEmpty()) {
                sink.accept(batch);
            }
            if (progressed) {
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > stallTimeout.toNanos()) {
                throw new KafkaException("replay of " + topic + " made no progress for " + stallTimeout.toSeconds()
                        + " s; still waiting on " + ends + " (positions " + positions + ")");
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        ReplaySummary summary = new ReplaySummary(topic, ranges, counts, millis);
        LOG.info("replayed {} records of {} in {} ms", summary.total(), topic, millis);
        return summary;
    }

    private KafkaConsumer<byte[], byte[]> bytesConsumer() {
        return new KafkaConsumer<>(consumerConfig, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer());
    }

    private static List<PartitionRange> resolve(KafkaConsumer<?, ?> consumer, TopicRange range) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(range.topic(), METADATA_TIMEOUT);
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            throw new KafkaException("no metadata for topic " + range.topic() + " within "
                    + METADATA_TIMEOUT.toSeconds() + " s: is the cluster reachable, and does the topic exist?", e);
        }
        if (infos == null || infos.isEmpty()) {
            throw new KafkaException("topic " + range.topic() + " does not exist (or has no partitions)");
        }
        List<TopicPartition> partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition()))
                .sorted(java.util.Comparator.comparingInt(TopicPartition::partition)).toList();
        Map<TopicPartition, Long> beginnings = consumer.beginningOffsets(partitions, METADATA_TIMEOUT);
        // Under read_committed these are the last stable offsets: nothing of an open transaction is included.
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, METADATA_TIMEOUT);
        Map<TopicPartition, Long> starts = offsets(consumer, partitions, range.from(), beginnings, ends, beginnings);
        Map<TopicPartition, Long> stops = offsets(consumer, partitions, range.to(), beginnings, ends, ends);
        List<PartitionRange> out = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            long start = starts.get(tp);
            long end = Math.max(start, stops.get(tp));
            out.add(new PartitionRange(tp.partition(), start, end));
        }
        return out;
    }

    /** Each partition's offset for {@code bound}, clamped to [beginning, end]; {@code edge} for {@link ReplayBound.Edge}. */
    private static Map<TopicPartition, Long> offsets(KafkaConsumer<?, ?> consumer, List<TopicPartition> partitions,
                                                     ReplayBound bound, Map<TopicPartition, Long> beginnings,
                                                     Map<TopicPartition, Long> ends, Map<TopicPartition, Long> edge) {
        Map<TopicPartition, Long> out = new HashMap<>();
        if (bound instanceof ReplayBound.AtTime at) {
            Map<TopicPartition, Long> query = new HashMap<>();
            partitions.forEach(tp -> query.put(tp, at.time().toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query, METADATA_TIMEOUT);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp o = found.get(tp);
                // No record at or after the time: the range ends (or starts) at the partition's end.
                out.put(tp, clamp(o == null ? ends.get(tp) : o.offset(), beginnings.get(tp), ends.get(tp)));
            }
        } else if (bound instanceof ReplayBound.AtOffset at) {
            partitions.forEach(tp -> out.put(tp, clamp(at.offset(), beginnings.get(tp), ends.get(tp))));
        } else {
            partitions.forEach(tp -> out.put(tp, edge.get(tp)));
        }
        return out;
    }

    private static long clamp(long offset, long low, long high) {
        return Math.max(low, Math.min(high, offset));
    }
}
