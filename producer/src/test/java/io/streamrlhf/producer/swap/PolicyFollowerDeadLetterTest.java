package io.streamrlhf.producer.swap;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.producer.TestPolicies;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.topics.DeadLettersSent;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An unreadable record on policy.versions is dead-lettered with its headers and the follower goes on. */
class PolicyFollowerDeadLetterTest {

    private static final Topics TOPICS = Topics.builder().prefix("t.").registryClient(
            new InMemorySchemaRegistryClient()).build();
    private static final String NAME = TOPICS.policyVersions().name();
    private static final byte[] GARBAGE = "{\"version\": 3}".getBytes(StandardCharsets.UTF_8);

    /**
     * A consumer of {@code policy.versions} whose partition 0 holds {@code unreadable} records no one can read, then
     * a readable version 2.
     */
    private static MockConsumer<String, byte[]> versions(Path dir, int unreadable) {
        TopicPartition tp = new TopicPartition(NAME, 0);
        byte[] good = TOPICS.policyVersions().valueSerializer().serialize(NAME,
                TestPolicies.version("p", 2, TestPolicies.save(TestPolicies.checkpoint(2), dir, "v2")));
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest");
        consumer.updatePartitions(NAME, List.of(new PartitionInfo(NAME, 0, Node.noNode(), null, null)));
        consumer.updateBeginningOffsets(Map.of(tp, 0L));
        consumer.updateEndOffsets(Map.of(tp, unreadable + 1L));
        consumer.schedulePollTask(() -> {
            for (int i = 0; i < unreadable; i++) {
                consumer.addRecord(new ConsumerRecord<>(NAME, 0, i, "p", GARBAGE));
            }
            consumer.addRecord(new ConsumerRecord<>(NAME, 0, unreadable, "p", good));
        });
        return consumer;
    }

    private static MockProducer<byte[], byte[]> deadLetters() {
        return new MockProducer<>(true, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    @Test
    void anUnreadableVersionIsDeadLetteredAndTheNextOneIsTaken(@TempDir Path dir) throws Exception {
        MockConsumer<String, byte[]> consumer = versions(dir, 1);
        MockProducer<byte[], byte[]> dlq = deadLetters();

        try (PolicyFollower follower = new PolicyFollower(TOPICS, "p", new CheckpointFetcher(null),
                new SimpleMeterRegistry(), () -> consumer, () -> dlq)) {
            follower.start();
            assertThat(follower.awaitFirst(Duration.ofSeconds(30)).version()).isEqualTo(2);
            assertThat(follower.deadLetteredCount()).isEqualTo(1);
        }

        assertThat(dlq.history()).hasSize(1);
        ProducerRecord<byte[], byte[]> dead = dlq.history().get(0);
        assertThat(dead.topic()).isEqualTo("t.policy.versions.dlq");
        assertThat(dead.value()).isEqualTo(GARBAGE);
        assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("p");
        assertThat(DlqHeaders.read(dead.headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo(NAME);
        assertThat(DlqHeaders.read(dead.headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
        assertThat(DlqHeaders.read(dead.headers(), DlqHeaders.ERROR_MESSAGE)).contains("magic byte");
    }

    @Test
    void aRecordDeadLetteredBeforeARestartIsNotDeadLetteredAgain(@TempDir Path dir) throws Exception {
        MockConsumer<String, byte[]> consumer = versions(dir, 2);
        MockProducer<byte[], byte[]> dlq = deadLetters();
        // The dead-letter topic already holds offset 0's dead letter, sent by this follower's previous run.
        DeadLettersSent before = DeadLettersSent.none();
        before.add(0, 0);

        try (PolicyFollower follower = new PolicyFollower(TOPICS, "p", new CheckpointFetcher(null),
                new SimpleMeterRegistry(), () -> consumer, () -> dlq, () -> before)) {
            follower.start();
            assertThat(follower.awaitFirst(Duration.ofSeconds(30)).version()).isEqualTo(2);
            assertThat(follower.deadLetteredCount()).isEqualTo(1);
        }
        assertThat(dlq.history()).as("only offset 1, which had no dead letter yet").singleElement()
                .satisfies(d -> assertThat(DlqHeaders.read(d.headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("1"));
    }
}
