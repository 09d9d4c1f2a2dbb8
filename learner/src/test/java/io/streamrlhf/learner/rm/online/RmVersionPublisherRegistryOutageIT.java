package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.registry.ForwardingSchemaRegistryClient;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryException;
import io.streamrlhf.schemas.serde.AvroSerdeConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * The RM trainer's publication waits out a schema-registry outage longer than the serializer's own retries instead of
 * failing the trainer (found by {@code rlhf chaos}: the trainer exited when the registry was killed as it published).
 */
class RmVersionPublisherRegistryOutageIT {

    /** A registry that answers nothing for {@code outageMs} from the first call a serializer makes. */
    private static final class FlakyRegistry extends ForwardingSchemaRegistryClient {
        private final AtomicInteger calls = new AtomicInteger();
        private final AtomicInteger refused = new AtomicInteger();
        private final long outageNanos;
        private volatile long firstCall;

        FlakyRegistry(long outageMs) {
            super(new InMemorySchemaRegistryClient());
            this.outageNanos = TimeUnit.MILLISECONDS.toNanos(outageMs);
        }

        private void maybeDown() {
            long now = System.nanoTime();
            if (calls.getAndIncrement() == 0) {
                firstCall = now;
            }
            if (now - firstCall < outageNanos) {
                refused.incrementAndGet();
                throw new SchemaRegistryException("Schema registry unreachable at http://registry:8081: "
                        + "ConnectException", SchemaRegistryException.UNREACHABLE, SchemaRegistryException.UNREACHABLE);
            }
        }

        @Override
        public int register(String subject, Schema schema) {
            maybeDown();
            return super.register(subject, schema);
        }

        @Override
        public int lookupId(String subject, Schema schema) {
            maybeDown();
            return super.lookupId(subject, schema);
        }
    }

    @Test
    void aPublicationWaitsOutARegistryOutageLongerThanTheSerializersRetries() {
        String prefix = "rmout" + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                SharedCluster.get().registryUrl()).prefix(prefix).partitions(1).create();
        Map<String, Object> settings = new HashMap<>(catalog.settings());
        settings.put(AvroSerdeConfig.RETRY_MAX_MS, 200L);  // the serializer gives up after 200 ms
        // down five times as long as the serializer retries: only the publisher's own waiting gets the record through
        FlakyRegistry registry = new FlakyRegistry(1_000);
        Topics topics = Topics.builder().prefix(prefix).registryClient(registry).config(settings).build();

        try (RmVersionPublisher publisher = new RmVersionPublisher(topics, settings)) {
            RewardModelVersion v1 = RewardModelVersion.newBuilder().setName("rm-0").setVersion(1L)
                    .setCheckpointUri("file:/ckpt/rm-0/1/").setSha256("ab".repeat(32)).setSizeBytes(1L)
                    .setCreatedAt(Instant.now()).build();
            assertThat(publisher.publish(v1)).as("published once the registry answers").isTrue();
            assertThat(publisher.lastPublished("rm-0")).isEqualTo(1L);
        }
        assertThat(registry.refused.get()).as("calls refused during the outage").isPositive();
        assertThat(registry.calls.get()).as("calls in all").isGreaterThan(registry.refused.get());
        try (RmVersionPublisher reader = new RmVersionPublisher(topics, settings)) {
            assertThat(reader.lastPublished("rm-0")).as("the record is on rm.versions").isEqualTo(1L);
        }
    }
}
