package io.streamrlhf.schemas.chunks;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads one version's chunks from the checkpoints topic ({@code read_committed}, no consumer group) and joins them in
 * chunk order. With a {@link ChunkIndex} it assigns the one partition, seeks to the first chunk and stops at the
 * count record, so a fetch reads its own version's chunks (and whatever other versions were written between them)
 * however many versions the topic holds. Without one (a version record published before chunks were indexed) it
 * scans every partition from the beginning, as readers did before.
 */
public final class CheckpointChunkReader {

    private final Map<String, Object> consumerProperties;
    private final Duration timeout;

    /**
     * @param clientProperties Kafka client settings (bootstrap servers, security); consumer keys are taken
     * @param timeout          how long one read may take, including waiting for the count record to appear
     */
    public CheckpointChunkReader(Map<String, Object> clientProperties, Duration timeout) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        this.consumerProperties = props;
        this.timeout = timeout;
    }

    /**
     * The concatenated chunks of {@code prefix}/{@code version} on {@code topic}.
     *
     * @param index where the chunks lie, or null to scan the topic
     * @throws ChunkReadException naming the topic and key when a chunk or the count is missing, or on timeout
     */
    public byte[] read(String topic, String prefix, long version, ChunkIndex index) {
        Parts parts = new Parts(prefix + "/" + version + "/", topic);
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProperties, new StringDeserializer(),
                new ByteArrayDeserializer());
        try {
            if (index != null) {
                readIndexed(consumer, topic, index, parts);
            } else {
                scan(consumer, topic, parts);
            }
        } finally {
            // No group and no commits: nothing to hand over. A graceful close would wait out the fetch still in
            // flight (fetch.max.wait.ms, 0.5 s), longer than an indexed read takes.
            consumer.close(CloseOptions.timeout(Duration.ZERO));
        }
        return parts.join(index);
    }

    private void readIndexed(KafkaConsumer<String, byte[]> consumer, String topic, ChunkIndex index, Parts parts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        TopicPartition tp = new TopicPartition(topic, index.partition());
        consumer.assign(List.of(tp));
        long start = consumer.beginningOffsets(List.of(tp), timeout).getOrDefault(tp, 0L);
        if (start > index.firstOffset()) {
            throw new ChunkReadException("the chunks of " + parts.prefix + "* at " + tp + " offsets "
                    + index.firstOffset() + ".." + index.lastOffset() + " were deleted (the partition starts at "
                    + start + ")");
        }
        long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
        if (end <= index.lastOffset()) {
            throw new ChunkReadException("the chunks of " + parts.prefix + "* end at " + tp + " offset "
                    + index.lastOffset() + " but the partition's readable end is " + end);
        }
        consumer.seek(tp, index.firstOffset());
        while (consumer.position(tp) <= index.lastOffset()) {
            if (System.nanoTime() > deadline) {
                throw new ChunkReadException("timed out after " + timeout + " reading " + parts.prefix + "* at " + tp
                        + " offsets " + index.firstOffset() + ".." + index.lastOffset());
            }
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (r.offset() <= index.lastOffset()) {
                    parts.add(r);
                }
            }
        }
    }

    private void scan(KafkaConsumer<String, byte[]> consumer, String topic, Parts parts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        if (partitions.isEmpty()) {
            throw new ChunkReadException("checkpoint topic " + topic + " does not exist");
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        while (true) {
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new ChunkReadException("timed out after " + timeout + " reading " + topic + " for "
                            + parts.prefix + "*");
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    parts.add(r);
                }
            }
            if (parts.count != null || System.nanoTime() > deadline) {
                return;
            }
            // The version record can be read before its count record is visible.
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ChunkReadException("interrupted while waiting for the chunks of " + parts.prefix + "*");
            }
        }
    }

    /** The chunks of one version seen so far; a later record of a key replaces an earlier one, null deletes it. */
    private static final class Parts {
        final String prefix;
        final String topic;
        final TreeMap<Integer, byte[]> chunks = new TreeMap<>();
        Integer count;

        Parts(String prefix, String topic) {
            this.prefix = prefix;
            this.topic = topic;
        }

        void add(ConsumerRecord<String, byte[]> r) {
            if (r.key() == null || !r.key().startsWith(prefix)) {
                return;
            }
            String suffix = r.key().substring(prefix.length());
            try {
                if (suffix.equals("count")) {
                    count = r.value() == null ? null
                            : Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8).trim());
                } else if (r.value() == null) {
                    chunks.remove(Integer.parseInt(suffix));
                } else {
                    chunks.put(Integer.parseInt(suffix), r.value());
                }
            } catch (NumberFormatException e) {
                throw new ChunkReadException("malformed chunk key or count " + r.key() + " at " + topic + "-"
                        + r.partition() + " offset " + r.offset() + ": " + e.getMessage(), e);
            }
        }

        byte[] join(ChunkIndex index) {
            if (count == null) {
                throw new ChunkReadException("no chunk count record " + prefix + "count on " + topic
                        + (index == null ? "" : " at partition " + index.partition() + " offset "
                        + index.lastOffset() + " (was the version tombstoned?)"));
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < count; i++) {
                byte[] part = chunks.get(i);
                if (part == null) {
                    throw new ChunkReadException("chunk " + prefix + i + " of " + count + " is missing on " + topic);
                }
                out.writeBytes(part);
            }
            return out.toByteArray();
        }
    }
}
