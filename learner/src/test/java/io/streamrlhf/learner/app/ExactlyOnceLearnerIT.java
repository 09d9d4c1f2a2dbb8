package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once training across crashes: a learner in a child JVM is killed with SIGKILL within an
 * update, right after a commit and right after a publication, then restarted until it has trained
 * on every record. The newest checkpoint's ledger must hold each committed {@code scored} record
 * exactly once (and no record of an aborted transaction), and the versions on
 * {@code policy.versions} must be strictly increasing.
 *
 * <p>One prompt group is split: half of it at the start of partition 0, the rest at its end. It
 * holds partition 0's checkpoint offset back while every later record there is trained, so each
 * restart re-reads trained records and must skip them through the de-duplication window.
 */
class ExactlyOnceLearnerIT {

    private static final Logger LOG = LoggerFactory.getLogger(ExactlyOnceLearnerIT.class);
    private static final int GROUPS = 24;
    private static final int GROUP_SIZE = 4;
    private static final int RECORDS = GROUPS * GROUP_SIZE;
    private static final int BATCH = 8;
    private static final int PUBLISH_EVERY = 2;
    private static final TransformerConfig SHAPE = new TransformerConfig(16, 32, 32, 2, 2);
    /** The group written half at the start of partition 0 and half at its end. */
    private static final int SPLIT_GROUP = 1;
    private static final Pattern RESUMED = Pattern.compile("resumed from checkpoint .* (\\d+) ids to de-duplicate");

    @TempDir
    Path dir;

    private final List<String> output = new CopyOnWriteArrayList<>();

    @Test
    void everyRecordIsTrainedExactlyOnceAcrossKills() throws Exception {
        String prefix = "eo" + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                SharedCluster.get().registryUrl()).prefix(prefix).partitions(2).create();
        Map<String, Object> settings = catalog.settings();
        Topics topics = catalog.topics();
        List<String> committed = writeScored(topics, settings);

        Path init = dir.resolve("sft");
        ModelRuntime.init(1);
        try (TransformerPolicy sft = TransformerPolicy.create(SHAPE, 3)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), init);
        }
        Path checkpoints = dir.resolve("checkpoints");
        Properties props = new Properties();
        settings.forEach((k, v) -> props.setProperty(k, v.toString()));
        props.setProperty("learner.checkpoint.dir", checkpoints.toString());
        props.setProperty("learner.init.checkpoint", init.toString());
        props.setProperty("learner.batch.sequences", Integer.toString(BATCH));
        props.setProperty("learner.publish.every.updates", Integer.toString(PUBLISH_EVERY));
        props.setProperty("learner.max.updates", Integer.toString(RECORDS / BATCH));
        props.setProperty("learner.group.id", prefix + "learner");
        props.setProperty("learner.threads", "1");
        // a killed learner holds the lease until its session times out: the floor keeps the restarts quick
        props.setProperty("learner.lease.session.timeout.ms", "6000");
        props.setProperty("ppo.advantage.estimator", "rloo");
        props.setProperty("ppo.epochs", "2");
        props.setProperty("ppo.minibatch.size", "4");
        // the split group must wait for its second half, not be released incomplete
        props.setProperty("learner.group.timeout.ms", "3600000");
        Path file = dir.resolve("learner.properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            props.store(w, "exactly-once IT");
        }

        // 1: killed within an update (right after it logged its start)
        killWhen(file, line -> line.contains("update 3 start"));
        // 2: killed between updates, right after a checkpoint was committed and before publication
        killWhen(file, line -> line.contains("committed version"));
        // 3: killed right after a publication
        killWhen(file, line -> line.contains("published policy version"));
        // 4: killed within an update again, later on, once version 4 is on disk: checkpoints are written behind the
        // training thread, so "committed version 4" is logged while update 9 trains (a kill at "update 9 start" would
        // usually land with version 4 still being written and restart from version 3, which is also exactly once,
        // but whose offsets have no trained records after them to skip)
        killWhen(file, line -> line.contains("committed version 4:"));
        // then run to the end
        Process last = start(file);
        assertThat(last.waitFor(240, TimeUnit.SECONDS)).as("learner finishes").isTrue();

        LearnerCheckpointStore store = new LearnerCheckpointStore(checkpoints);
        LearnerCheckpoint newest = store.loadNewest().orElseThrow();
        List<LedgerEntry> ledger = store.readLedger(newest);
        List<String> ledgerIds = ledger.stream().map(LedgerEntry::generationId).toList();
        Map<String, Long> counts = ledgerIds.stream().collect(Collectors.groupingBy(id -> id, Collectors.counting()));
        assertThat(ledgerIds).as("ledger size").hasSize(RECORDS);
        assertThat(counts).as("no repeats").allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1L));
        assertThat(counts.keySet()).as("no gaps, nothing aborted").containsExactlyInAnyOrderElementsOf(committed);
        assertThat(newest.updates()).isEqualTo(RECORDS / BATCH);
        assertThat(newest.version()).isEqualTo(RECORDS / BATCH / PUBLISH_EVERY);
        List<Long> updateNumbers = ledger.stream().map(LedgerEntry::update).toList();
        assertThat(updateNumbers).isSorted();
        // every entry says where it was read, and no position was consumed twice
        assertThat(ledger).allMatch(LedgerEntry::hasPosition);
        assertThat(ledger.stream().map(e -> e.partition() + "@" + e.offset()).distinct().count())
                .as("distinct positions").isEqualTo(RECORDS);
        // one segment per committed checkpoint (each holds the updates since the previous one), none left unlisted
        assertThat(newest.ledger()).hasSize(RECORDS / BATCH / PUBLISH_EVERY);
        assertThat(newest.ledger()).allSatisfy(seg -> assertThat(seg.lastUpdate() - seg.firstUpdate() + 1)
                .isEqualTo(PUBLISH_EVERY));
        assertThat(store.ledger().files()).as("segments on disk").hasSizeLessThanOrEqualTo(
                newest.ledger().size() + 1);

        List<Long> versions = LearnerTopicsSupport.publishedVersions(topics, settings);
        LOG.info("published versions in order: {}", versions);
        assertThat(versions).isNotEmpty().isSorted().doesNotHaveDuplicates();
        assertThat(versions.get(versions.size() - 1)).isEqualTo(newest.version());
        assertThat(metricNames(topics, settings)).as("metrics on the metrics topic").contains("losses/approx_kl",
                "losses/clipfrac", "losses/explained_variance", "policy/kl_ref", "policy/entropy", "reward/mean",
                "data/staleness", "data/dropped_stale", "time/update_s", "time/wait_s", "time/commit_s");
        assertThat(output.stream().filter(l -> l.contains("resumed from checkpoint")).count())
                .as("restarts resumed from a checkpoint").isGreaterThanOrEqualTo(2);
        // the split group held partition 0 back, so restarts had trained records to skip
        assertThat(output.stream().map(RESUMED::matcher).filter(Matcher::find)
                .mapToLong(m -> Long.parseLong(m.group(1))).max().orElse(0))
                .as("ids a restart had to de-duplicate").isGreaterThan(0);
    }

    private void killWhen(Path file, Predicate<String> trigger) throws Exception {
        Process p = start(file);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        int seen = output.size();
        while (System.nanoTime() < deadline && p.isAlive()) {
            // A snapshot first: a sub-list of the live list fails when the reader thread appends while it is read.
            List<String> snapshot = List.copyOf(output);
            if (snapshot.subList(seen, snapshot.size()).stream().anyMatch(trigger)) {
                break;
            }
            Thread.sleep(5);
        }
        assertThat(p.isAlive()).as("learner alive when the trigger fired").isTrue();
        p.destroyForcibly();  // SIGKILL: no shutdown hook runs
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        LOG.info("killed the learner (exit {})", p.exitValue());
    }

    private Process start(Path file) throws IOException {
        return LearnerTopicsSupport.startLearnerProcess(file, "eo", output, line -> line.contains("update")
                || line.contains("version") || line.contains("ERROR") || line.contains("Exception"));
    }

    /** Writes the groups transactionally, plus one aborted transaction whose records must never be trained. */
    private static List<String> writeScored(Topics topics, Map<String, Object> settings) throws Exception {
        TopicSpec<String, ScoredGeneration> scored = topics.scored();
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "eo-writer-" + UUID.randomUUID());
        List<String> committed = new ArrayList<>();
        Random random = new Random(5);
        try (KafkaProducer<String, ScoredGeneration> producer = new KafkaProducer<>(props, scored.keySerializer(),
                scored.valueSerializer())) {
            producer.initTransactions();
            for (int g = 0; g < GROUPS; g++) {
                if (g == SPLIT_GROUP) {
                    writeSplitHalf(producer, scored, 0, GROUP_SIZE / 2, random, committed);
                    continue;
                }
                boolean abort = g == 5;
                producer.beginTransaction();
                String promptId = (abort ? "aborted-" : "prompt-") + g;
                for (int i = 0; i < GROUP_SIZE; i++) {
                    String id = promptId + "-gen-" + i;
                    producer.send(new ProducerRecord<>(scored.name(), promptId, scored(id, promptId, i, random)));
                    if (!abort) {
                        committed.add(id);
                    }
                }
                if (abort) {
                    producer.abortTransaction();
                    // the aborted group is replaced so that the record count stays a multiple of the batch
                    producer.beginTransaction();
                    for (int i = 0; i < GROUP_SIZE; i++) {
                        String id = "prompt-r" + g + "-gen-" + i;
                        producer.send(new ProducerRecord<>(scored.name(), "prompt-r" + g,
                                scored(id, "prompt-r" + g, i, random)));
                        committed.add(id);
                    }
                }
                producer.commitTransaction();
            }
            writeSplitHalf(producer, scored, GROUP_SIZE / 2, GROUP_SIZE, random, committed);
        }
        return committed;
    }

    /** Members [from, to) of the split group, in partition 0 (a group stays in one partition), in one transaction. */
    private static void writeSplitHalf(KafkaProducer<String, ScoredGeneration> producer,
                                       TopicSpec<String, ScoredGeneration> scored, int from, int to, Random random,
                                       List<String> committed) {
        producer.beginTransaction();
        String promptId = "prompt-split-" + SPLIT_GROUP;
        for (int i = from; i < to; i++) {
            String id = promptId + "-gen-" + i;
            producer.send(new ProducerRecord<>(scored.name(), 0, promptId, scored(id, promptId, i, random)));
            committed.add(id);
        }
        producer.commitTransaction();
    }

    private static ScoredGeneration scored(String id, String promptId, int index, Random random) {
        return FailoverBench.scored(id, promptId, index, SHAPE.vocabSize(), random);
    }

    private static java.util.Set<String> metricNames(Topics topics, Map<String, Object> settings) {
        TopicSpec<String, io.streamrlhf.schemas.avro.MetricEvent> spec = topics.metrics();
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        java.util.Set<String> names = new java.util.TreeSet<>();
        try (KafkaConsumer<String, io.streamrlhf.schemas.avro.MetricEvent> consumer = new KafkaConsumer<>(props,
                spec.keyDeserializer(), spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, io.streamrlhf.schemas.avro.MetricEvent> r : consumer.poll(Duration.ofMillis(500))) {
                    if (MetricsReporter.COMPONENT.equals(r.key())) {
                        names.add(r.value().getName());
                    }
                }
            }
        }
        return names;
    }
}
