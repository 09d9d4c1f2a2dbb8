package io.streamrlhf.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/** "Connected" follows a real broker: up while it serves, down once it is stopped under the client. */
class BrokerConnectionIT {

    @Test
    void readyFlipsToFalseWhenTheBrokerIsGone() {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start();
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, "connection-it",
                     ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            HealthChecks health = new HealthChecks().ready("connected", BrokerConnection.check(consumer::metrics));
            assertThat(health.ready().ok()).as("no connection before the first poll").isFalse();
            consumer.subscribe(List.of("connection-it"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(100));
                return health.ready().ok();
            });
            broker.stop();
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(100));
                return !health.ready().ok();
            });
            assertThat(health.ready().checks()).containsEntry("connected", false);
        }
    }
}
