package io.streamrlhf.producer.feedback;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;

/**
 * Writes feedback to the {@code feedback} topic (key prompt_id) with an idempotent producer and waits for the
 * acknowledgement, so an HTTP 202 means the label is stored. Thread-safe.
 */
public final class KafkaFeedbackSink implements FeedbackSink, AutoCloseable {

    private final TopicSpec<String, Feedback> spec;
    private final KafkaProducer<String, Feedback> producer;

    /** A sink over the catalog's {@code feedback} topic. */
    public KafkaFeedbackSink(Topics topics, Map<String, Object> clientProperties) {
        this.spec = topics.feedback();
        Map<String, Object> props = ClientSettings.producer(clientProperties);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 1);
        this.producer = new KafkaProducer<>(props, spec.keySerializer(), spec.valueSerializer());
    }

    @Override
    public void write(Feedback feedback) {
        try {
            producer.send(new ProducerRecord<>(spec.name(), feedback.getPromptId(), feedback)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while writing feedback " + feedback.getFeedbackId(), e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not write feedback " + feedback.getFeedbackId() + " to " + spec.name()
                    + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaException("timed out writing feedback " + feedback.getFeedbackId() + " to " + spec.name(), e);
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
