package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One unreadable record on preferences is dead-lettered with its headers, and the trainer trains on the rest. */
class OnlineRmTrainerDeadLetterIT {
    private static final int ROUND_PAIRS = 24;

    @TempDir
    Path dir;

    @Test
    void anUnreadablePreferenceIsDeadLetteredAndTheRoundIsTrained() throws Exception {
        ModelRuntime.init(1);
        CatalogTopics catalog = OnlineRmTrainerIT.catalog("rmdl", 1);
        Map<String, Object> settings = OnlineRmTrainerIT.tinyTrainer(catalog, dir, 1, ROUND_PAIRS, 8);
        settings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        Topics topics = catalog.topics();
        String name = topics.preferences().name();
        byte[] garbage = {0, 0, 0, 0x7f, (byte) 0xff, 1, 2, 3};  // schema id 32767: never registered
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(name, "bad".getBytes(StandardCharsets.UTF_8), garbage)).get();
        }
        OnlineRmTrainerIT.produce(topics, settings, OnlineRmTrainerIT.pairs(ROUND_PAIRS));

        try (OnlineRmTrainer trainer = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(trainer, 240);
            assertThat(trainer.version()).isEqualTo(1);
            assertThat(trainer.deadLettered()).isEqualTo(1);
        }

        Map<String, Object> consumerProps = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                settings.get("bootstrap.servers"), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topics.dlq(topics.preferences()).name(), 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (dead.isEmpty() && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(dead::add);
            }
        }
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).value()).isEqualTo(garbage);
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo(name);
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.ERROR_MESSAGE)).contains("32767");
        assertThat(DlqHeaders.read(dead.get(0).headers(), DlqHeaders.COMPONENT)).isEqualTo("rm-trainer");
    }

    @Test
    void aRecordARunDeadLetteredBeforeDyingIsNotDeadLetteredAgainByTheNext() throws Exception {
        ModelRuntime.init(1);
        CatalogTopics catalog = OnlineRmTrainerIT.catalog("rmdl2", 1);
        Map<String, Object> settings = OnlineRmTrainerIT.tinyTrainer(catalog, dir, 1, ROUND_PAIRS, 8);
        settings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        Topics topics = catalog.topics();
        String name = topics.preferences().name();
        String dlq = topics.dlq(topics.preferences()).name();
        byte[] garbage = {0, 0, 0, 0x7f, (byte) 0xff, 1, 2, 3};
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            p.send(new ProducerRecord<>(name, "bad".getBytes(StandardCharsets.UTF_8), garbage)).get();
            // What a run that died before its first checkpoint left behind: the dead letter of offset 0.
            p.send(DlqHeaders.deadLetter(dlq, new ConsumerRecord<>(name, 0, 0L, "bad".getBytes(StandardCharsets.UTF_8),
                    garbage), new IllegalArgumentException("unknown schema id 32767"), "rm-trainer")).get();
        }
        OnlineRmTrainerIT.produce(topics, settings, OnlineRmTrainerIT.pairs(ROUND_PAIRS));

        try (OnlineRmTrainer trainer = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(trainer, 240);
            assertThat(trainer.version()).isEqualTo(1);
            assertThat(trainer.deadLettered()).as("dead-lettered by this run").isZero();
        }
        Map<String, Object> consumerProps = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                settings.get("bootstrap.servers"), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(consumerProps, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(dlq, 0);
            c.assign(List.of(tp));
            assertThat(c.endOffsets(List.of(tp)).get(tp)).as("records on %s", dlq).isEqualTo(1L);
        }
    }
}
