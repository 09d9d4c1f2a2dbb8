package io.streamrlhf.ops;

import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;

/**
 * Whether a Kafka client (consumer, producer, admin, or a Kafka Streams instance, which holds several) is connected
 * to a broker now, read from the client's own {@code connection-count} metric: it counts open connections and
 * drops to zero while no broker answers, where a client's API would only time out later.
 */
public final class BrokerConnection {

    private BrokerConnection() {
    }

    /** True when any of the client's {@code connection-count} metrics is above zero. */
    public static boolean isUp(Map<MetricName, ? extends Metric> metrics) {
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals("connection-count")
                    && e.getValue().metricValue() instanceof Number n && n.doubleValue() > 0) {
                return true;
            }
        }
        return false;
    }

    /** A readiness check over a client's metrics; a client not made yet ({@code null}) is not connected. */
    public static java.util.function.BooleanSupplier check(Supplier<Map<MetricName, ? extends Metric>> metrics) {
        return () -> {
            Map<MetricName, ? extends Metric> m = metrics.get();
            return m != null && isUp(m);
        };
    }
}
