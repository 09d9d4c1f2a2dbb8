package io.streamrlhf.producer.feedback;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
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
        writeAll(List.of(feedback));
    }

    /** Sends every record before waiting for any, so that they travel together (one produce request, not one each). */
    @Override
    public void writeAll(List<Feedback> feedback) {
        List<Future<RecordMetadata>> sent = new ArrayList<>(feedback.size());
        for (Feedback f : feedback) {
            sent.add(producer.send(new ProducerRecord<>(spec.name(), f.getPromptId(), f)));
        }
        for (int i = 0; i < sent.size(); i++) {
            String id = feedback.get(i).getFeedbackId();
            try {
                sent.get(i).get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaException("interrupted while writing feedback " + id, e);
            } catch (ExecutionException e) {
                throw new KafkaException("could not write feedback " + id + " to " + spec.name() + ": "
                        + e.getCause().getMessage(), e.getCause());
            } catch (TimeoutException e) {
                throw new KafkaException("timed out writing feedback " + id + " to " + spec.name(), e);
            }
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
