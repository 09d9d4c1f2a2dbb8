package io.streamrlhf.learner.app;

import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends an update's metrics to the log (one line with the headline figures) and to the
 * {@code metrics} topic (one {@link MetricEvent} per metric, key = component).
 */
public final class MetricsReporter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MetricsReporter.class);
    /** The component name on the metrics topic. */
    public static final String COMPONENT = "learner";
    private static final List<String> HEADLINE = List.of("reward/mean", "policy/kl_ref", "losses/approx_kl",
            "losses/clipfrac", "losses/explained_variance", "policy/entropy", "data/staleness", "data/dropped_stale");

    private final TopicSpec<String, MetricEvent> topic;
    private final KafkaProducer<String, MetricEvent> producer;

    /** Connects to the metrics topic. */
    public MetricsReporter(Topics topics, Map<String, Object> clientProperties) {
        this.topic = topics.metrics();
        this.producer = new KafkaProducer<>(PolicyPublisher.producerProperties(clientProperties),
                topic.keySerializer(), topic.valueSerializer());
    }

    /** Logs and sends (asynchronously; a lost metric is logged, never fatal). */
    public void report(long step, long version, Map<String, Double> metrics) {
        StringBuilder line = new StringBuilder("update ").append(step).append(" (version ").append(version).append(")");
        for (String name : HEADLINE) {
            Double v = metrics.get(name);
            if (v != null) {
                line.append(' ').append(name).append('=').append(String.format("%.4g", v));
            }
        }
        LOG.info(line.toString());
        Instant now = Instant.now();
        metrics.forEach((name, value) -> {
            if (Double.isFinite(value)) {
                MetricEvent event = MetricEvent.newBuilder().setComponent(COMPONENT).setName(name).setValue(value)
                        .setStep(step).setTags(Map.of("policy_version", Long.toString(version))).setTimestamp(now)
                        .build();
                producer.send(new ProducerRecord<>(topic.name(), COMPONENT, event), (md, e) -> {
                    if (e != null) {
                        LOG.warn("metric {} of update {} not sent: {}", name, step, e.getMessage());
                    }
                });
            }
        });
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
