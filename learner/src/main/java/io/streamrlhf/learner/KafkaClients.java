package io.streamrlhf.learner;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** Picks a Kafka client's keys out of a service's settings (registry and learner keys would only draw warnings). */
public final class KafkaClients {

    private KafkaClients() {
    }

    /** The entries of {@code settings} whose key is one of {@code clientKeys}, or a security/SASL/SSL key. */
    public static Map<String, Object> only(Map<String, Object> settings, Set<String> clientKeys) {
        Map<String, Object> out = new HashMap<>();
        settings.forEach((k, v) -> {
            if (clientKeys.contains(k) || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                out.put(k, v);
            }
        });
        return out;
    }
}
