package io.streamrlhf.rewardstream.rescore;

import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.ScoringOutcome;
import io.streamrlhf.rewardstream.topology.ScoredGenerations;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-scores a range of past generations with a chosen ensemble (a new reward-model version, say) into a new scored
 * topic: "what would today's reward model have said of last week's generations".
 *
 * <p>Exactly once across crashes: each batch's scored records (and dead letters) are written in one transaction
 * together with the source offsets it consumed, committed for the group {@code rlhf-rescore-<to-topic>}; a rerun
 * into the same topic resumes after the last committed batch and a finished one writes nothing. The output topic is
 * created with the source's partition count and each record keeps its source partition, so a prompt's records stay
 * together. Records that cannot be read or scored go to {@code <to-topic>.dlq} with the usual headers. Each batch
 * is scored as the live stream scores one micro-batch, normalisation statistics carried from batch to batch.
 */
public final class Rescorer {
    private static final Logger LOG = LoggerFactory.getLogger(Rescorer.class);
    private static final String COMPONENT = "rescore";

    /**
     * What a run did.
     *
     * @param read         records read in the range (this run)
     * @param scored       scored records written
     * @param deadLettered records sent to the dead-letter topic
     * @param resumed      whether the run resumed an earlier one's committed position
     */
    public record Result(long read, long scored, long deadLettered, boolean resumed) {
    }

    private Rescorer() {
    }

    /**
     * Runs until every partition reaches the end of the range (or the end the topic had when the run started).
     *
     * @param settings  Kafka and registry settings (bootstrap.servers, schema.registry.url, client settings)
     * @param fromTopic the generations topic to read
     * @param toTopic   the scored topic to write
     * @param batchSize records per scoring batch and transaction
     */
    public static Result run(Map<String, Object> settings, Topics topics, String fromTopic, RescoreRange range,
                             RewardEnsemble ensemble, String toTopic, int batchSize) {
        if (fromTopic.equals(toTopic)) {
            throw new IllegalArgumentException("rescore: --to must differ from the topic read (" + fromTopic + ")");
        }
        String group = "rlhf-rescore-" + toTopic;
        int partitions = ensureTopics(settings, fromTopic, toTopic);
        Properties consumerProps = new Properties();
        consumerProps.putAll(settings);
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, batchSize);
        Properties producerProps = new Properties();
        producerProps.putAll(settings);
        producerProps.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, group);
        var generations = topics.generations();
        var scoredSpec = topics.scored();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(filter(consumerProps),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(filter(producerProps),
                     new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            List<TopicPartition> tps = new ArrayList<>();
            for (int p = 0; p < partitions; p++) {
                tps.add(new TopicPartition(fromTopic, p));
            }
            consumer.assign(tps);
            Map<TopicPartition, Long> end = ends(consumer, tps, range);
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.copyOf(tps));
            boolean resumed = false;
            Map<TopicPartition, Long> starts = starts(consumer, tps, range);
            for (TopicPartition tp : tps) {
                OffsetAndMetadata c = committed.get(tp);
                long start = starts.get(tp);
                if (c != null && c.offset() > start) {
                    start = c.offset();
                    resumed = true;
                }
                consumer.seek(tp, start);
            }
            NormalizationState state = new NormalizationState();
            long read = 0;
            long scored = 0;
            long dead = 0;
            while (!done(consumer, tps, end)) {
                List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        batch.add(r);
                    }
                }
                if (batch.isEmpty()) {
                    continue;
                }
                read += batch.size();
                List<ConsumerRecord<byte[], byte[]>> readable = new ArrayList<>();
                List<Generation> decoded = new ArrayList<>();
                producer.beginTransaction();
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    try {
                        decoded.add(generations.valueDeserializer().deserialize(r.topic(), r.value()));
                        readable.add(r);
                    } catch (RuntimeException e) {
                        deadLetter(producer, toTopic, r, e);
                        dead++;
                    }
                }
                List<ScoringInput> inputs = decoded.stream().map(ScoringInput::of).toList();
                List<ScoringOutcome> outcomes = inputs.isEmpty() ? List.of() : ensemble.score(inputs, state);
                Instant now = Instant.now();
                for (int i = 0; i < outcomes.size(); i++) {
                    ScoringOutcome outcome = outcomes.get(i);
                    ConsumerRecord<byte[], byte[]> r = readable.get(i);
                    if (outcome.scored()) {
                        ScoredGeneration out = ScoredGenerations.of(decoded.get(i), outcome.score(), now, null, null);
                        producer.send(new ProducerRecord<>(toTopic, r.partition(), r.key(),
                                scoredSpec.valueSerializer().serialize(toTopic, out)));
                        scored++;
                    } else {
                        deadLetter(producer, toTopic, r, outcome.error());
                        dead++;
                    }
                }
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                producer.commitTransaction();
            }
            LOG.info("re-scored {} record(s) of {} into {}: {} scored, {} dead-lettered{}", read, fromTopic, toTopic,
                    scored, dead, resumed ? " (resumed)" : "");
            return new Result(read, scored, dead, resumed);
        }
    }

    private static void deadLetter(KafkaProducer<byte[], byte[]> producer, String toTopic,
                                   ConsumerRecord<byte[], byte[]> r, Throwable error) {
        producer.send(new ProducerRecord<>(toTopic + ".dlq", null, r.timestamp(), r.key(), r.value(),
                DlqHeaders.describe(r.topic(), r.partition(), r.offset(), error, COMPONENT, Instant.now())));
    }

    private static boolean done(KafkaConsumer<byte[], byte[]> consumer, List<TopicPartition> tps,
                                Map<TopicPartition, Long> end) {
        for (TopicPartition tp : tps) {
            if (consumer.position(tp) < end.get(tp)) {
                return false;
            }
        }
        return true;
    }

    private static Map<TopicPartition, Long> starts(KafkaConsumer<?, ?> consumer, List<TopicPartition> tps,
                                                    RescoreRange range) {
        Map<TopicPartition, Long> beginning = consumer.beginningOffsets(tps);
        Map<TopicPartition, Long> out = new HashMap<>();
        Map<TopicPartition, OffsetAndTimestamp> byTime = range.fromTime() == null ? Map.of()
                : consumer.offsetsForTimes(timestamps(tps, range.fromTime()));
        Map<TopicPartition, Long> endNow = consumer.endOffsets(tps);
        for (TopicPartition tp : tps) {
            long start = beginning.get(tp);
            if (range.fromOffset() != null) {
                start = Math.max(start, range.fromOffset());
            }
            if (range.fromTime() != null) {
                OffsetAndTimestamp at = byTime.get(tp);
                start = at == null ? endNow.get(tp) : Math.max(start, at.offset());
            }
            out.put(tp, start);
        }
        return out;
    }

    private static Map<TopicPartition, Long> ends(KafkaConsumer<?, ?> consumer, List<TopicPartition> tps,
                                                  RescoreRange range) {
        Map<TopicPartition, Long> endNow = consumer.endOffsets(tps);
        Map<TopicPartition, OffsetAndTimestamp> byTime = range.toTime() == null ? Map.of()
                : consumer.offsetsForTimes(timestamps(tps, range.toTime()));
        Map<TopicPartition, Long> out = new HashMap<>();
        for (TopicPartition tp : tps) {
            long end = endNow.get(tp);
            if (range.toOffset() != null) {
                end = Math.min(end, range.toOffset());
            }
            if (range.toTime() != null) {
                OffsetAndTimestamp at = byTime.get(tp);
                if (at != null) {
                    end = Math.min(end, at.offset());
                }
            }
            out.put(tp, end);
        }
        return out;
    }

    private static Map<TopicPartition, Long> timestamps(List<TopicPartition> tps, Instant at) {
        Map<TopicPartition, Long> out = new HashMap<>();
        tps.forEach(tp -> out.put(tp, at.toEpochMilli()));
        return out;
    }

    /** The source's partition count; creates the output topic (and its DLQ) with it when absent. */
    private static int ensureTopics(Map<String, Object> settings, String fromTopic, String toTopic) {
        try (Admin admin = Admin.create(filter(settings))) {
            Map<String, TopicDescription> described;
            try {
                described = admin.describeTopics(List.of(fromTopic)).allTopicNames().get();
            } catch (ExecutionException e) {
                throw new IllegalArgumentException("rescore: cannot read topic '" + fromTopic + "': "
                        + e.getCause().getMessage(), e);
            }
            int partitions = described.get(fromTopic).partitions().size();
            short rf = (short) described.get(fromTopic).partitions().get(0).replicas().size();
            for (String name : List.of(toTopic, toTopic + ".dlq")) {
                try {
                    admin.createTopics(List.of(new NewTopic(name, partitions, rf))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("rescore: cannot create topic '" + name + "': "
                                + e.getCause().getMessage(), e);
                    }
                }
            }
            return partitions;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Only the client settings: Kafka warns about, but ignores, the project's own keys. */
    private static Properties filter(Map<?, ?> settings) {
        Properties out = new Properties();
        settings.forEach((k, v) -> {
            String key = String.valueOf(k);
            if (!key.startsWith("reward.") && !key.startsWith("topic.") && !key.startsWith("schema.registry")
                    && !key.startsWith("scoring.") && !key.startsWith("feedback.")) {
                out.put(key, v);
            }
        });
        return out;
    }
}
