package io.streamrlhf.producer.swap;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a checkpoint's chunks from the {@code checkpoints} topic: every record keyed {@code <name>/<version>/<i>}
 * plus the {@code <name>/<version>/count} record, read from the beginning to the end with {@code read_committed}
 * and no consumer group. The topic is compacted and the learner deletes old versions with tombstones, so a full
 * read stays small.
 */
public final class KafkaChunkSource implements CheckpointFetcher.ChunkSource {

    private final Map<String, Object> consumerProperties;
    private final Duration timeout;

    /**
     * @param clientProperties Kafka client settings (bootstrap servers, security); consumer keys are taken
     * @param timeout          how long to wait for the chunk count to appear
     */
    public KafkaChunkSource(Map<String, Object> clientProperties, Duration timeout) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        this.consumerProperties = props;
        this.timeout = timeout;
    }

    @Override
    public byte[] read(String topic, String name, long version) {
        String prefix = name + "/" + version + "/";
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProperties,
                new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new CheckpointRefusedException("checkpoint topic " + topic + " does not exist");
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            TreeMap<Integer, byte[]> parts = new TreeMap<>();
            Integer count = null;
            while (true) {
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
                while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                    if (System.nanoTime() > deadline) {
                        throw new CheckpointRefusedException("timed out reading " + topic + " for " + prefix + "*");
                    }
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        if (r.key() == null || !r.key().startsWith(prefix)) {
                            continue;
                        }
                        String suffix = r.key().substring(prefix.length());
                        if (suffix.equals("count")) {
                            count = r.value() == null ? null
                                    : Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8).trim());
                        } else if (r.value() == null) {
                            parts.remove(Integer.parseInt(suffix));
                        } else {
                            parts.put(Integer.parseInt(suffix), r.value());
                        }
                    }
                }
                if (count != null || System.nanoTime() > deadline) {
                    break;
                }
                sleep(200);  // the version record can be read before its count record is visible
            }
            if (count == null) {
                throw new CheckpointRefusedException("no chunk count record " + prefix + "count on " + topic);
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < count; i++) {
                byte[] part = parts.get(i);
                if (part == null) {
                    throw new CheckpointRefusedException("chunk " + prefix + i + " of " + count + " is missing on "
                            + topic);
                }
                out.writeBytes(part);
            }
            return out.toByteArray();
        } catch (NumberFormatException e) {
            throw new CheckpointRefusedException("malformed chunk key or count under " + prefix + " on " + topic
                    + ": " + e.getMessage(), e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CheckpointRefusedException("interrupted while waiting for checkpoint chunks");
        }
    }
}
