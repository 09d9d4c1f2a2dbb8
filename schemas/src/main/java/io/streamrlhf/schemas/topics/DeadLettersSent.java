package io.streamrlhf.schemas.topics;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The records of one source topic that already have a dead letter, read from the dead-letter topic itself (its
 * {@link DlqHeaders} name the source partition and offset). A component whose progress is not committed with its
 * dead letters in one Kafka transaction (the reward-model trainer's progress is its checkpoint on disk; a worker's
 * policy follower reads {@code policy.versions} from the start each time) reads this at start and skips records
 * dead-lettered before, so a restart does not dead-letter the same record twice.
 */
public final class DeadLettersSent {

    private final Set<String> sent;

    private DeadLettersSent(Set<String> sent) {
        this.sent = sent;
    }

    /** Nothing sent (for tests and components without a dead-letter topic). */
    public static DeadLettersSent none() {
        return new DeadLettersSent(new HashSet<>());
    }

    /**
     * Reads {@code dlqTopic} to its end ({@code read_committed}, no consumer group) and keeps the positions of the
     * dead letters of {@code sourceTopic} that {@code component} sent.
     *
     * @throws KafkaException when the topic cannot be read to its end within {@code timeout}
     */
    public static DeadLettersSent read(Map<String, Object> clientProperties, String dlqTopic, String sourceTopic,
                                       String component, Duration timeout) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        Set<String> sent = new HashSet<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(dlqTopic, timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaException("could not read " + dlqTopic + " to its end within " + timeout);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (sourceTopic.equals(DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_TOPIC))
                            && component.equals(DlqHeaders.read(r.headers(), DlqHeaders.COMPONENT))) {
                        sent.add(key(DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_PARTITION),
                                DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_OFFSET)));
                    }
                }
            }
        }
        return new DeadLettersSent(sent);
    }

    /** Whether the record at {@code partition}/{@code offset} of the source topic has a dead letter already. */
    public synchronized boolean contains(int partition, long offset) {
        return sent.contains(key(Integer.toString(partition), Long.toString(offset)));
    }

    /** Remembers a dead letter just sent. */
    public synchronized void add(int partition, long offset) {
        sent.add(key(Integer.toString(partition), Long.toString(offset)));
    }

    /** How many source records have a dead letter. */
    public synchronized int size() {
        return sent.size();
    }

    private static String key(String partition, String offset) {
        return partition + "@" + offset;
    }
}
