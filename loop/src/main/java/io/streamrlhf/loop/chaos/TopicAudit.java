package io.streamrlhf.loop.chaos;

import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.rm.online.OnlineRmTrainer;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads what a stack's topics hold as an auditor would, trusting no component's counters: {@code read_committed},
 * every partition from its beginning to its end as it is now. It gives {@link Audit} its input, and the stack ITs
 * the versions and generations to wait for.
 */
public final class TopicAudit {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrap;
    private final Topics topics;

    /**
     * @param bootstrap the cluster's bootstrap servers
     * @param registry  its schema registry URL
     * @param prefix    the topic prefix ({@code rlhf.})
     */
    public TopicAudit(String bootstrap, String registry, String prefix) {
        this.bootstrap = bootstrap;
        Map<String, Object> settings = new HashMap<>();
        settings.put("bootstrap.servers", bootstrap);
        settings.put("schema.registry.url", registry);
        settings.put(TopicsConfig.PREFIX, prefix);
        this.topics = Topics.create(settings);
    }

    /** The topics it reads. */
    public Topics topics() {
        return topics;
    }

    /** Every committed version record of {@code policy} on policy.versions, in order. */
    public List<Long> published(String policy) {
        return policyVersions().getOrDefault(policy, List.of());
    }

    /** Every committed version record on policy.versions, per policy, in order. */
    public Map<String, List<Long>> policyVersions() {
        Map<String, List<Long>> versions = new TreeMap<>();
        read(topics.policyVersions(), r -> versions.computeIfAbsent(r.key(), k -> new ArrayList<>())
                .add(r.value().getVersion()));
        return versions;
    }

    /** Every committed version record on rm.versions, per reward model, in order. */
    public Map<String, List<Long>> rmVersions() {
        Map<String, List<Long>> versions = new TreeMap<>();
        read(topics.rmVersions(), r -> versions.computeIfAbsent(r.key(), k -> new ArrayList<>())
                .add((long) r.value().getVersion()));
        return versions;
    }

    /** The newest of {@code versions}; -1 for none. */
    public static long newest(List<Long> versions) {
        return versions.isEmpty() ? -1 : versions.get(versions.size() - 1);
    }

    /** Every committed prompt, partition by partition. */
    public List<Audit.Prompt> prompts() {
        List<Audit.Prompt> out = new ArrayList<>();
        read(topics.prompts(), r -> out.add(new Audit.Prompt(r.key(), r.value().getSamplesPerPrompt(),
                r.partition(), r.offset())));
        return out;
    }

    /** Every committed generation. */
    public List<Audit.Generation> generations() {
        List<Audit.Generation> out = new ArrayList<>();
        read(topics.generations(), r -> {
            Generation g = r.value();
            out.add(new Audit.Generation(g.getGenerationId(), g.getPromptId(), g.getGroupIndex(), g.getWorkerId(),
                    r.partition(), r.offset()));
        });
        return out;
    }

    /** Every committed scored record. */
    public List<Audit.Scored> scored() {
        List<Audit.Scored> out = new ArrayList<>();
        read(topics.scored(), r -> out.add(new Audit.Scored(r.value().getGeneration().getGenerationId(),
                r.partition(), r.offset())));
        return out;
    }

    /** Every committed dead letter of every topic that has a DLQ. */
    public List<Audit.DeadLetter> deadLetters() {
        List<Audit.DeadLetter> out = new ArrayList<>();
        for (TopicSpec<?, ?> source : topics.dlqSources()) {
            TopicSpec<byte[], byte[]> dlq = topics.dlq(source);
            read(dlq.name(), dlq.keyDeserializer(), dlq.valueDeserializer(), r -> {
                String topic = DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_TOPIC);
                String partition = DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_PARTITION);
                String offset = DlqHeaders.read(r.headers(), DlqHeaders.SOURCE_OFFSET);
                String reason = DlqHeaders.read(r.headers(), DlqHeaders.ERROR_MESSAGE);
                if (reason == null || reason.isBlank()) {
                    reason = DlqHeaders.read(r.headers(), DlqHeaders.ERROR_CLASS);
                }
                out.add(new Audit.DeadLetter(topic == null ? source.name() : topic, parse(partition), parseLong(offset),
                        reason));
            }, true);
        }
        return out;
    }

    /** Every committed feedback label's id. */
    public List<String> feedbackIds() {
        List<String> out = new ArrayList<>();
        read(topics.feedback(), r -> out.add(r.value().getFeedbackId()));
        return out;
    }

    /**
     * Every committed preference pair with the label it came from; not the reward-model trainer's write-backs
     * (header {@value OnlineRmTrainer#ORIGIN_HEADER}), which measure a pair already there.
     */
    public List<Audit.Preference> preferences() {
        List<Audit.Preference> out = new ArrayList<>();
        read(topics.preferences(), r -> {
            Header origin = r.headers().lastHeader(OnlineRmTrainer.ORIGIN_HEADER);
            if (origin == null || !OnlineRmTrainer.ORIGIN.equals(new String(origin.value(), StandardCharsets.UTF_8))) {
                out.add(new Audit.Preference(r.value().getPairId(), r.value().getFeedbackId()));
            }
        });
        return out;
    }

    /**
     * The ledger of the learner checkpoint of {@code version} in {@code checkpointDir}: the version the learners
     * published last, whose checkpoint is what a learner resumes from. Empty when there is none on disk.
     */
    public List<Audit.LedgerEntry> ledger(Path checkpointDir, long version) {
        List<Audit.LedgerEntry> out = new ArrayList<>();
        if (version < 0 || !Files.isDirectory(checkpointDir)) {
            return out;
        }
        LearnerCheckpointStore store = new LearnerCheckpointStore(checkpointDir);
        if (!store.versions().contains(version)) {
            return out;
        }
        LearnerCheckpoint c = store.load(version);
        String prefix = topics.scored().name() + "-";
        store.forEachLedgerEntry(c, e -> {
            int partition = e.partition().startsWith(prefix) ? parse(e.partition().substring(prefix.length())) : -1;
            out.add(new Audit.LedgerEntry(e.generationId(), partition, e.hasPosition() ? e.offset() : -1));
        });
        return out;
    }

    /**
     * Each group's lag: the committed records ({@code read_committed}) after its committed offsets. Offsets alone
     * would count transaction markers too: a consumer that commits the offset after its last record leaves the
     * marker after it uncounted, a lag of one that no record stands behind.
     *
     * @param groups  group id → the service of its processes ({@code worker}, {@code score}, {@code learn})
     * @param allowed group id → the lag it holds back by design (a learner's unfinished batch); 0 when absent
     */
    public List<Audit.Lag> lags(Map<String, String> groups, Map<String, Long> allowed) {
        List<Audit.Lag> out = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
             KafkaConsumer<byte[], byte[]> consumer = consumer(new ByteArrayDeserializer(),
                     new ByteArrayDeserializer())) {
            for (Map.Entry<String, String> g : groups.entrySet()) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(g.getKey())
                        .partitionsToOffsetAndMetadata().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                long lag = 0;
                for (Map.Entry<TopicPartition, OffsetAndMetadata> c : committed.entrySet()) {
                    if (c.getValue() != null) {
                        lag += recordsFrom(consumer, c.getKey(), c.getValue().offset());
                    }
                }
                out.add(new Audit.Lag(g.getKey(), g.getValue(), lag, allowed.getOrDefault(g.getKey(), 0L)));
            }
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the groups' lag from " + bootstrap + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** How many committed records {@code tp} holds from {@code offset} to its end. */
    private static long recordsFrom(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long offset) {
        long end = consumer.endOffsets(List.of(tp), TIMEOUT).get(tp);
        if (offset >= end) {
            return 0;
        }
        consumer.assign(List.of(tp));
        consumer.seek(tp, offset);
        long records = 0;
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (consumer.position(tp, TIMEOUT) < end && System.nanoTime() < deadline) {
            records += consumer.poll(Duration.ofMillis(200)).records(tp).stream().filter(r -> r.offset() < end)
                    .count();
        }
        return records;
    }

    /** End offsets ({@code read_committed}) summed over the partitions of {@code topic}: how much it holds now. */
    public long size(String topic) {
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            return consumer.endOffsets(partitions, TIMEOUT).values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /**
     * Reads everything {@link Audit} judges.
     *
     * @param checkpointDir the learners' checkpoint directory (their ledger)
     * @param policy        the policy the learners publish
     */
    public Audit.Input input(Path checkpointDir, String policy, Map<String, String> groups,
                             Map<String, Long> allowedLag) {
        Map<String, List<Long>> policyVersions = policyVersions();
        return new Audit.Input(topics.prompts().name(), topics.generations().name(), topics.scored().name(),
                prompts(), generations(), scored(), deadLetters(),
                ledger(checkpointDir, newest(policyVersions.getOrDefault(policy, List.of()))), feedbackIds(),
                preferences(), policyVersions, rmVersions(), lags(groups, allowedLag));
    }

    private <V> void read(TopicSpec<String, V> spec, Consumer<ConsumerRecord<String, V>> each) {
        read(spec.name(), spec.keyDeserializer(), spec.valueDeserializer(), each, false);
    }

    private <K, V> void read(String topic, Deserializer<K> keys, Deserializer<V> values,
                             Consumer<ConsumerRecord<K, V>> each, boolean withNullValues) {
        try (KafkaConsumer<K, V> consumer = consumer(keys, values)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, TIMEOUT);
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp, TIMEOUT) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within 2 min");
                }
                for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() != null || withNullValues) {
                        each.accept(r);
                    }
                }
            }
        }
    }

    private <K, V> KafkaConsumer<K, V> consumer(Deserializer<K> keys, Deserializer<V> values) {
        Map<String, Object> props = new LinkedHashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, keys, values);
    }

    private static int parse(String s) {
        try {
            return s == null ? -1 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long parseLong(String s) {
        try {
            return s == null ? -1 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
