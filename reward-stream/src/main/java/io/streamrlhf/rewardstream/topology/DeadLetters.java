package io.streamrlhf.rewardstream.topology;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Builds dead-letter records (original key and value bytes, {@link DlqHeaders}) and counts them in the Micrometer
 * counter {@value #METRIC} tagged with the source topic and the error class. The exception handlers and the
 * processors share it, so every path to a DLQ looks the same.
 */
public final class DeadLetters {
    /** The counter's name. */
    public static final String METRIC = "rlhf.dlq.records";
    /** Component name written in {@link DlqHeaders#COMPONENT}. */
    public static final String COMPONENT = "reward-stream";
    /** Config key under which a {@link MeterRegistry} object reaches the exception handlers. */
    public static final String METER_REGISTRY_CONFIG = "rlhf.meter.registry";

    private final MeterRegistry registry;

    public DeadLetters(MeterRegistry registry) {
        this.registry = registry == null ? Metrics.globalRegistry : registry;
    }

    /** The registry named in handler configs under {@link #METER_REGISTRY_CONFIG}, else Micrometer's global one. */
    public static DeadLetters fromConfig(Map<String, ?> configs) {
        Object given = configs.get(METER_REGISTRY_CONFIG);
        return new DeadLetters(given instanceof MeterRegistry r ? r : Metrics.globalRegistry);
    }

    /** The dead-letter topic of {@code sourceTopic}: {@code <sourceTopic>.dlq}, as {@link Topics#dlq} names it. */
    public static String dlqTopic(String sourceTopic) {
        return sourceTopic + Topics.DLQ_SUFFIX;
    }

    /** The headers of a dead letter, plus any headers the record had (kept for a later re-read). */
    public Headers headers(String topic, int partition, long offset, Throwable error, Headers original) {
        Headers headers = DlqHeaders.describe(topic, partition, offset, error, COMPONENT, Instant.now());
        if (original != null) {
            for (Header h : original) {
                if (!h.key().startsWith("dlq.")) {
                    headers.add(h);
                }
            }
        }
        return headers;
    }

    /** A record for the producer-side DLQ (the exception handlers). */
    public ProducerRecord<byte[], byte[]> record(String topic, int partition, long offset, byte[] key, byte[] value,
                                                 Throwable error, Headers original) {
        count(topic, error);
        return new ProducerRecord<>(dlqTopic(topic), null, key, value,
                headers(topic, partition, offset, error, original));
    }

    /** Counts one dead letter. */
    public void count(String topic, Throwable error) {
        Counter.builder(METRIC).description("Records sent to a dead-letter topic")
                .tag("topic", String.valueOf(topic)).tag("error", error.getClass().getSimpleName())
                .register(registry).increment();
    }

    /** Total dead letters counted for {@code topic} so far. */
    public double total(String topic) {
        return registry.find(METRIC).tag("topic", topic).counters().stream().mapToDouble(Counter::count).sum();
    }

    public MeterRegistry registry() {
        return registry;
    }
}
