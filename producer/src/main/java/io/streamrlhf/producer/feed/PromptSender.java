package io.streamrlhf.producer.feed;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;

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
        this.spec = topics.prompts();
        Map<String, Object> props = ClientSettings.producer(clientProperties);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "rlhf-prompts-" + UUID.randomUUID());
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
            producer.commitTransaction();
            return prompts.size();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            producer.abortTransaction();
            throw new KafkaException("sending " + prompts.size() + " prompts to " + spec.name()
                    + " failed and was rolled back; nothing was sent: " + e.getMessage(), e);
        }
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
