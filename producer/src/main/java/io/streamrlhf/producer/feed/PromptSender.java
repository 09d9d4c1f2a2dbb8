package io.streamrlhf.producer.feed;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TransactionCommit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Writes prompts to {@code prompts} (key prompt_id) in transactions: {@link #sendAll} puts a whole validated file
 * in one transaction, so a failure part-way leaves nothing visible to the workers (which read
 * {@code read_committed}).
 */
public final class PromptSender implements AutoCloseable {

    private final TopicSpec<String, Prompt> spec;
    private final KafkaProducer<String, Prompt> producer;

    /**
     * @param topics           the topic catalog
     * @param clientProperties Kafka client settings
     */
    public PromptSender(Topics topics, Map<String, Object> clientProperties) {
        this(topics, clientProperties, "rlhf-prompts-" + UUID.randomUUID());
    }

    /**
     * A sender with a stable transactional id: starting it fences a predecessor with the same id and aborts the
     * transaction that one left open (a killed feed's open transaction would otherwise hold read_committed readers
     * of its partitions back until the transaction times out).
     *
     * @param transactionalId the producer's transactional id
     */
    public PromptSender(Topics topics, Map<String, Object> clientProperties, String transactionalId) {
        this.spec = topics.prompts();
        Map<String, Object> props = ClientSettings.producer(clientProperties);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 10);
        this.producer = new KafkaProducer<>(props, spec.keySerializer(), spec.valueSerializer());
        producer.initTransactions();
    }

    /**
     * Sends every prompt in one transaction.
     *
     * @return how many were sent
     * @throws KafkaException when the transaction failed (it was aborted; nothing is visible)
     */
    public int sendAll(List<Prompt> prompts) {
        if (prompts.isEmpty()) {
            return 0;
        }
        producer.beginTransaction();
        try {
            for (Prompt p : prompts) {
                producer.send(new ProducerRecord<>(spec.name(), p.getPromptId(), p));
            }
            TransactionCommit.commit(producer, "a batch of prompts");
            return prompts.size();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            producer.abortTransaction();
            throw new KafkaException("sending " + prompts.size() + " prompts to " + spec.name()
                    + " failed and was rolled back; nothing was sent: " + e.getMessage(), e);
        }
    }

    /**
     * The keys (prompt ids) of up to {@code perPartition} newest records of each partition of {@code prompts},
     * aborted and open transactions' included: what a restarted feed must not send again.
     */
    public static List<String> newestIds(Topics topics, Map<String, Object> clientProperties, int perPartition) {
        Map<String, Object> props = ClientSettings.consumer(clientProperties);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // read_uncommitted: a killed feed's open transaction must not hide what it sent (nor block this read)
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        String topic = topics.prompts().name();
        List<String> ids = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            c.assign(partitions);
            Map<TopicPartition, Long> ends = c.endOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> begins = c.beginningOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> remaining = new HashMap<>();
            for (TopicPartition tp : partitions) {
                long from = Math.max(begins.get(tp), ends.get(tp) - perPartition);
                if (from < ends.get(tp)) {
                    c.seek(tp, from);
                    remaining.put(tp, ends.get(tp));
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    ids.add(r.key());
                }
                // transaction markers take offsets but are never returned: the position tells when a partition is read
                remaining.keySet().removeIf(tp -> c.position(tp) >= remaining.get(tp));
            }
            if (!remaining.isEmpty()) {
                throw new KafkaException("could not read the newest prompts of " + remaining.keySet() + " within 30 s");
            }
        }
        return ids;
    }

    /** The topic written to. */
    public String topic() {
        return spec.name();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
