package io.streamrlhf.producer;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Splits one map of service settings into what each Kafka client accepts, so the registry, topic and worker keys
 * that share the map do not reach the clients (which would log them as unknown).
 */
public final class ClientSettings {

    private ClientSettings() {
    }

    /** The consumer's share of {@code settings}. */
    public static Map<String, Object> consumer(Map<String, ?> settings) {
        return only(settings, ConsumerConfig.configNames());
    }

    /** The producer's share of {@code settings}. */
    public static Map<String, Object> producer(Map<String, ?> settings) {
        return only(settings, ProducerConfig.configNames());
    }

    private static Map<String, Object> only(Map<String, ?> settings, Set<String> names) {
        Map<String, Object> out = new HashMap<>();
        settings.forEach((k, v) -> {
            if (names.contains(k) && v != null) {
                out.put(k, v);
            }
        });
        return out;
    }
}
