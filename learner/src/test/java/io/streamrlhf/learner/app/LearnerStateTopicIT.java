package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.checkpoint.LedgerEntry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * No shared filesystem: two learners of one policy, each with a checkpoint directory of its own and
 * {@code learner.state.topic.enabled}. The active one publishes versions with its state in chunks on the checkpoints
 * topic; when it closes, or stalls past the session timeout as if killed, the standby, whose directory is empty,
 * restores the newest published state from Kafka alone and publishes the next versions; the same with real processes,
 * the active one SIGKILLed. Each case checks that every
 * version is published once, that the standby's ledger holds every scored record once (no gaps, no repeats), and
 * that the states of versions beyond {@code topic.checkpoints.kept} were tombstoned.
 */
class LearnerStateTopicIT {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerStateTopicIT.class);
    private static final int GROUPS = 12;
    private static final int GROUP_SIZE = 4;
    private static final int RECORDS = GROUPS * GROUP_SIZE;
    private static final int BATCH = 8;
    private static final int UPDATES = RECORDS / BATCH;
    private static final int SESSION_TIMEOUT_MS = 6_000;
    private static final byte[] UNREADABLE = "not avro".getBytes(StandardCharsets.UTF_8);
    private static final TransformerConfig SHAPE = new TransformerConfig(16, 32, 32, 2, 2);

    @TempDir
    Path dir;

    private final List<Thread> threads = new ArrayList<>();
    private final List<LearnerService> learners = new ArrayList<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private Topics topics;
    private Map<String, Object> settings;
    private List<String> ids;

    @AfterEach
    void close() throws InterruptedException {
        learners.forEach(LearnerService::stop);
        for (Thread t : threads) {
            t.join(30_000);
        }
        learners.forEach(LearnerService::close);
    }

    @Test
    void deadLettersOfAVersionSavedButNotPublishedGoOutOnceWhenItIsPublishedAfterARestart() throws Exception {
        setUp("ld", true);
        LearnerService a = learner("a");
        a.beforePublish(() -> {
            throw new IllegalStateException("simulated death between saving version 1 and publishing it");
        });
        Thread ta = start(a, "learner-a");
        ta.join(90_000);
        assertThat(ta.isAlive()).isFalse();
        assertThat(failure.get()).as("a died before publishing").isNotNull();
        failure.set(null);
        a.close();
        assertThat(versionsIn("a")).as("a saved version 1").contains(1L);
        assertThat(publishedVersions()).as("but published nothing").isEmpty();
        String dlq = topics.dlq(topics.scored()).name();
        assertThat(committed(dlq)).as("nor its dead letter").isEmpty();

        // The same learner restarted on its directory publishes version 1, with the dead letter it covers, then goes on.
        LearnerService again = learner("a-again", Map.of(LearnerConfig.CHECKPOINT_DIR, dir.resolve("a").toString()));
        Thread t = start(again, "learner-a-again");
        t.join(120_000);
        assertThat(t.isAlive()).isFalse();
        assertThat(failure.get()).isNull();
        assertThat(publishedVersions()).as("every version once").containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        List<ConsumerRecord<byte[], byte[]>> dead = committed(dlq);
        assertThat(dead).as("the unreadable record, dead-lettered once").hasSize(1);
        assertThat(dead.get(0).value()).isEqualTo(UNREADABLE);
        assertThat(io.streamrlhf.schemas.topics.DlqHeaders.read(dead.get(0).headers(),
                io.streamrlhf.schemas.topics.DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
    }

    /** Committed records of a topic, all partitions. */
    private List<ConsumerRecord<byte[], byte[]>> committed(String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            List<TopicPartition> parts = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                consumer.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void aStandbyOnAnotherDirectoryResumesFromTheStatePublishedOnKafka() throws Exception {
        setUp("ls");
        LearnerService a = learner("a");
        AtomicReference<List<Long>> beforeTakeover = new AtomicReference<>();
        // a stops itself right after committing version 3, so that b has versions left to publish; b stands by
        // until then, and its directory is looked at while it cannot have taken over
        a.beforeCommit(() -> {
            if (a.version() == 2) {
                beforeTakeover.set(versionsIn("b"));
                a.stop();
            }
        });
        Thread ta = start(a, "learner-a");
        LearnerThreads.awaitTrue(a::active, 30, "a holds the lease");
        LearnerService b = learner("b");
        Thread tb = start(b, "learner-b");
        ta.join(90_000);
        assertThat(ta.isAlive()).isFalse();
        assertThat(a.version()).isEqualTo(3);
        a.close();
        assertThat(beforeTakeover.get()).as("b's own directory holds nothing before it takes over").isEmpty();
        assertThat(b.updates()).as("the standby trained nothing while a led").isZero();

        long closed = System.nanoTime();
        LearnerThreads.awaitTrue(() -> b.version() >= 4, 60, "b publishes version 4");
        LOG.info("version 4 published {} s after a closed", (System.nanoTime() - closed) / 1e9);
        tb.join(90_000);
        assertThat(tb.isAlive()).as("b finishes").isFalse();
        assertThat(failure.get()).isNull();

        PublishedState.Restore restore = b.stateRestore();
        assertThat(restore).as("b restored from Kafka").isNotNull();
        assertThat(restore.version()).isEqualTo(3);
        LOG.info("b restored version {} from Kafka: {} bytes in {} s", restore.version(), restore.bytes(),
                restore.seconds());
        assertThat(b.updates()).isEqualTo(UPDATES);
        LearnerCheckpointStore bStore = new LearnerCheckpointStore(dir.resolve("b"));
        assertThat(bStore.leaderEpoch(3)).as("version 3 is a's, as a published it").isEqualTo(a.epoch());
        checkLedgerVersionsAndStates(b.epoch());
    }

    @Test
    void aStandbyTakesOverFromAStalledLeaderWithNothingButKafka() throws Exception {
        setUp("lk");
        String publishedSft = publishSft();
        LearnerService a = learner("a");
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        // before committing version 3, a stalls as a killed process would: its lease thread stops polling and its
        // training thread blocks; its updates since version 2 are b's to redo
        a.beforeCommit(() -> {
            if (a.version() == 2 && stalled.getCount() > 0) {
                a.lease().freeze(true);
                stalled.countDown();
                LearnerThreads.await(resume);
            }
        });
        Thread ta = start(a, "learner-a");
        assertThat(stalled.await(90, TimeUnit.SECONDS)).as("a reaches its third commit").isTrue();
        long stalledAt = System.nanoTime();
        assertThat(versionsIn("b")).as("b's own directory holds nothing before it takes over").isEmpty();

        // b shares no disk with a at all: its starting policy (and KL reference) is the SFT published on Kafka
        LearnerService b = learner("b", Map.of(LearnerConfig.INIT_CHECKPOINT, publishedSft));
        assertThat(b.referenceId()).as("b's reference, fetched from Kafka, is the SFT a read from disk")
                .isEqualTo(a.referenceId());
        assertThat(b.initCheckpoint()).as("fetched beside b's checkpoint directory").startsWith(dir)
                .isNotEqualTo(dir.resolve("sft"));
        // one JVM holds one gradient collector: b trains once the stalled a has left (processes have no such limit)
        CountDownLatch aGone = new CountDownLatch(1);
        b.beforeUpdate(() -> LearnerThreads.await(aGone));
        Thread tb = start(b, "learner-b");
        LearnerThreads.awaitTrue(() -> b.epoch() != LearnerCheckpointStore.NO_EPOCH, 30, "b takes over from the stalled a");
        double takeover = (System.nanoTime() - stalledAt) / 1e9;
        LOG.info("takeover of a stalled leader: {} s (session timeout {} ms)", takeover, SESSION_TIMEOUT_MS);
        assertThat(takeover).isLessThan(30);
        assertThat(b.version()).as("b resumed from the newest published version").isEqualTo(2);
        assertThat(b.stateRestore()).isNotNull();
        assertThat(b.stateRestore().version()).isEqualTo(2);

        resume.countDown();
        ta.join(60_000);
        assertThat(ta.isAlive()).as("the stalled leader leaves its loop").isFalse();
        assertThat(a.fenced()).as("and was fenced").isTrue();
        assertThat(publishedVersions()).as("nothing published by the fenced a").containsExactly(1L, 2L);
        aGone.countDown();

        tb.join(90_000);
        assertThat(tb.isAlive()).as("b finishes").isFalse();
        assertThat(failure.get()).isNull();
        checkLedgerVersionsAndStates(b.epoch());
    }

    @Test
    void aLearnerReturningWithAStaleDirectoryResumesFromTheNewerStateOnKafka() throws Exception {
        setUp("lr");
        // a leads to version 2 and stops, b (its directory empty) leads to version 4 and stops, then a comes back
        // with its own directory still at version 2
        LearnerService a = learner("a");
        a.beforeCommit(() -> {
            if (a.version() == 1) {
                a.stop();
            }
        });
        runAlone(a, "learner-a");
        assertThat(a.version()).isEqualTo(2);
        LearnerService b = learner("b");
        b.beforeCommit(() -> {
            if (b.version() == 3) {
                b.stop();
            }
        });
        runAlone(b, "learner-b");
        assertThat(b.version()).isEqualTo(4);
        assertThat(b.stateRestore().version()).isEqualTo(2);
        assertThat(versionsIn("a")).as("a's directory is behind the published versions").containsExactly(1L, 2L);

        LearnerService back = learner("a");
        assertThat(back.version()).as("at start it loads its own newest checkpoint").isEqualTo(2);
        runAlone(back, "learner-a-again");
        assertThat(failure.get()).isNull();
        assertThat(back.stateRestore()).as("on taking over it restores the newer state from Kafka").isNotNull();
        assertThat(back.stateRestore().version()).isEqualTo(4);
        assertThat(back.updates()).isEqualTo(UPDATES);
        checkLedgerVersionsAndStates("a", back.epoch());
    }

    @Test
    void aKilledLearnerProcessIsReplacedByOneOnAnEmptyDirectoryOfItsOwn() throws Exception {
        setUp("lp");
        List<String> output = new CopyOnWriteArrayList<>();
        // a is SIGKILLed right after committing version 3 to its own directory: before, during or after publishing it
        Process a = startProcess(writeProperties("a"), "a", output);
        awaitLine(a, output, 0, line -> line.contains("committed version 3"), 180);
        a.destroyForcibly();
        assertThat(a.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long killedAt = System.nanoTime();
        List<Long> publishedAtKill = publishedVersions();
        LOG.info("killed learner a; versions published by then: {}", publishedAtKill);
        assertThat(Files.exists(dir.resolve("b"))).as("b starts with no checkpoint directory at all").isFalse();

        int firstOfB = output.size();
        Process b = startProcess(writeProperties("b"), "b", output);
        String tookOver = awaitLine(b, output, firstOfB, line -> line.contains("took over policy"), 120);
        LOG.info("b took over {} s after a was killed (its JVM start and a's {} ms session timeout included)",
                (System.nanoTime() - killedAt) / 1e9, SESSION_TIMEOUT_MS);
        assertThat(b.waitFor(240, TimeUnit.SECONDS)).as("b finishes").isTrue();
        assertThat(b.exitValue()).isZero();

        List<String> ofB = List.copyOf(output);
        ofB = ofB.subList(firstOfB, ofB.size());
        Pattern restoredLine = Pattern.compile("restored learner state version (\\d+) .*over this learner's own empty "
                + "checkpoint directory");
        long restored = ofB.stream().map(restoredLine::matcher).filter(Matcher::find)
                .mapToLong(m -> Long.parseLong(m.group(1))).findFirst()
                .orElseThrow(() -> new AssertionError("b logged no restore from Kafka"));
        // a's version 3 was committed on its disk; whether its publication also committed when a died decides which
        // b restores (a transaction whose commit was under way at the kill completes on the broker)
        assertThat(restored).as("b restored the newest published version")
                .isBetween(publishedAtKill.get(publishedAtKill.size() - 1), 3L);
        Matcher epoch = Pattern.compile("as leader epoch (\\d+)").matcher(tookOver);
        assertThat(epoch.find()).isTrue();
        checkLedgerVersionsAndStates("b", Long.parseLong(epoch.group(1)));
    }

    /** A learner's settings file for a child JVM, with the checkpoint directory {@code <temp>/<name>}. */
    private Path writeProperties(String name) throws IOException {
        Properties props = new Properties();
        settings.forEach((k, v) -> props.setProperty(k, v.toString()));
        props.setProperty(LearnerConfig.CHECKPOINT_DIR, dir.resolve(name).toString());
        Path file = dir.resolve(name + ".properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            props.store(w, "learner " + name);
        }
        return file;
    }

    private static Process startProcess(Path file, String name, List<String> output) throws IOException {
        return LearnerTopicsSupport.startLearnerProcess(file, name, output, line -> line.contains("version")
                || line.contains("ERROR") || line.contains("Exception"));
    }

    /** Waits for a line of {@code p}'s output, from index {@code from} on, matching {@code trigger}; returns it. */
    private static String awaitLine(Process p, List<String> output, int from, Predicate<String> trigger, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int seen = from;
        while (System.nanoTime() < deadline) {
            List<String> snapshot = List.copyOf(output);
            for (String line : snapshot.subList(seen, snapshot.size())) {
                if (trigger.test(line)) {
                    return line;
                }
            }
            seen = snapshot.size();
            assertThat(p.isAlive()).as("the learner process is alive while awaited").isTrue();
            Thread.sleep(5);
        }
        throw new AssertionError("no matching output line within " + seconds + " s");
    }

    /** Runs one learner until it returns, then closes it. */
    private void runAlone(LearnerService learner, String name) throws InterruptedException {
        Thread t = start(learner, name);
        t.join(120_000);
        assertThat(t.isAlive()).as(name + " returns").isFalse();
        assertThat(failure.get()).isNull();
        learner.close();
    }

    private void checkLedgerVersionsAndStates(long lastEpoch) throws Exception {
        checkLedgerVersionsAndStates("b", lastEpoch);
    }

    /**
     * The newest checkpoint in {@code learner}'s directory holds every record once; versions 1..UPDATES were each
     * published once with a state; only the newest kept states are live.
     */
    private void checkLedgerVersionsAndStates(String learner, long lastEpoch) throws Exception {
        LearnerCheckpointStore store = new LearnerCheckpointStore(dir.resolve(learner));
        LearnerCheckpoint newest = store.loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(UPDATES);
        assertThat(store.leaderEpoch(newest.version())).isEqualTo(lastEpoch);
        List<LedgerEntry> ledger = store.readLedger(newest);
        assertThat(ledger.stream().map(LedgerEntry::generationId).toList()).as("no gaps, no repeats")
                .doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
        assertThat(ledger.stream().map(LedgerEntry::update).toList()).isSorted();
        List<PolicyVersion> records = publishedRecords();
        assertThat(records.stream().map(PolicyVersion::getVersion).toList()).as("each version once, in order")
                .containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        for (PolicyVersion r : records) {
            assertThat(r.getStateSha256()).as("version %d carries its state", r.getVersion()).isNotNull();
            assertThat(r.getStateSizeBytes()).isPositive();
        }
        LOG.info("learner state bytes per version: {}", records.stream().map(PolicyVersion::getStateSizeBytes).toList());
        try (CheckpointChunkWriter chunks = new CheckpointChunkWriter(topics, settings)) {
            assertThat(chunks.liveVersions(ChunkUri.learnerStatePrefix("policy")))
                    .as("states beyond topic.checkpoints.kept are tombstoned").containsExactly(4L, 5L, 6L);
        }
    }

    private List<Long> versionsIn(String learner) {
        Path d = dir.resolve(learner);
        if (!Files.exists(d)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(d)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("v\\d{12}"))
                    .map(n -> Long.parseLong(n.substring(1))).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void setUp(String name) throws Exception {
        setUp(name, false);
    }

    /** With {@code unreadable}, the scored topic starts with one record no learner can read, on prompt-0's partition. */
    private void setUp(String name, boolean unreadable) throws Exception {
        String prefix = name + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(SharedCluster.get().bootstrapServers(),
                SharedCluster.get().registryUrl()).prefix(prefix).partitions(2).create();
        topics = catalog.topics();
        settings = catalog.settings();
        if (unreadable) {
            LearnerTopicsSupport.awaitLeaders(settings, topics.scored().name());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers")),
                    new org.apache.kafka.common.serialization.ByteArraySerializer(),
                    new org.apache.kafka.common.serialization.ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(topics.scored().name(),
                        "prompt-0".getBytes(StandardCharsets.UTF_8), UNREADABLE)).get();
            }
        }
        ids = writeScored();
        Path init = dir.resolve("sft");
        ModelRuntime.init(1);
        try (TransformerPolicy sft = TransformerPolicy.create(SHAPE, 3)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), init);
        }
        settings.put(LearnerConfig.INIT_CHECKPOINT, init.toString());
        settings.put(LearnerConfig.BATCH_SEQUENCES, Integer.toString(BATCH));
        settings.put(LearnerConfig.MAX_UPDATES, Integer.toString(UPDATES));
        settings.put(LearnerConfig.GROUP_ID, prefix + "learner");
        settings.put(LearnerConfig.THREADS, "1");
        settings.put(LearnerConfig.LEASE_SESSION_TIMEOUT_MS, Integer.toString(SESSION_TIMEOUT_MS));
        settings.put(LearnerConfig.CHECKPOINT_TOPIC, "true");
        settings.put(LearnerConfig.STATE_TOPIC, "true");
        settings.put("ppo.advantage.estimator", "rloo");
        settings.put("ppo.epochs", "1");
        settings.put("ppo.minibatch.size", "8");
    }

    /** A learner with a checkpoint directory of its own, {@code <temp>/<name>}. */
    private LearnerService learner(String name) {
        return learner(name, Map.of());
    }

    private LearnerService learner(String name, Map<String, Object> overrides) {
        Map<String, Object> own = new HashMap<>(settings);
        own.put(LearnerConfig.CHECKPOINT_DIR, dir.resolve(name).toString());
        own.putAll(overrides);
        LearnerService l = new LearnerService(new LearnerConfig(own), topics, own);
        learners.add(l);
        return l;
    }

    /**
     * Publishes the SFT policy of {@link #setUp} on Kafka as policy {@code sft} version 0, as a deployment publishes its
     * starting point, and returns its {@code kafka:} URI.
     */
    private String publishSft() throws Exception {
        Path sft = dir.resolve("sft");
        try (PolicyPublisher publisher = new PolicyPublisher(topics, settings, "sft")) {
            PolicyVersion record = PolicyVersion.newBuilder().setName("sft").setVersion(0)
                    .setCheckpointUri(publisher.chunkUri(0))
                    .setSha256(CheckpointStore.sha256(Files.readAllBytes(sft.resolve(CheckpointStore.MANIFEST))))
                    .setSizeBytes(0L).setParentVersion(null).setStep(0L).setMetrics(Map.of())
                    .setCreatedAt(java.time.Instant.now()).build();
            assertThat(publisher.publish(record, CheckpointStore.toBytes(CheckpointStore.load(sft)))).isTrue();
            return publisher.chunkUri(0);
        }
    }

    @Test
    void aStartingPolicyOnKafkaThatIsMissingOrChangedIsRefusedNamingTheUri() throws Exception {
        setUp("li");
        String published = publishSft();
        String missing = published.substring(0, published.lastIndexOf('/')) + "/7";
        assertThatThrownBy(() -> learner("m", Map.of(LearnerConfig.INIT_CHECKPOINT, missing)))
                .isInstanceOf(org.apache.kafka.common.config.ConfigException.class)
                .hasMessageContaining(missing).hasMessageContaining("no record of policy 'sft' version 7");
        // a second record for version 0 whose sha256 is not its chunks': the newest record is the one checked
        TopicSpec<String, PolicyVersion> versions = topics.policyVersions();
        try (KafkaProducer<String, PolicyVersion> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers")),
                versions.keySerializer(), versions.valueSerializer())) {
            PolicyVersion forged = PolicyVersion.newBuilder().setName("sft").setVersion(0).setCheckpointUri(published)
                    .setSha256("00".repeat(32)).setSizeBytes(0L).setParentVersion(null).setStep(0L)
                    .setMetrics(Map.of()).setCreatedAt(java.time.Instant.now()).build();
            producer.send(new ProducerRecord<>(versions.name(), "sft", forged)).get();
        }
        assertThatThrownBy(() -> learner("f", Map.of(LearnerConfig.INIT_CHECKPOINT, published)))
                .isInstanceOf(org.apache.kafka.common.config.ConfigException.class)
                .hasMessageContaining(published).hasMessageContaining("the published sha256 is " + "00".repeat(32));
        assertThat(learners).isEmpty();
    }

    private Thread start(LearnerService learner, String name) {
        return LearnerThreads.start(learner, name, threads, failure);
    }

    private List<String> writeScored() {
        return LearnerTopicsSupport.writeGroups(topics, settings, GROUPS, GROUP_SIZE, SHAPE.vocabSize(), 11);
    }

    private List<Long> publishedVersions() {
        return LearnerTopicsSupport.publishedVersions(topics, settings);
    }

    private List<PolicyVersion> publishedRecords() {
        return LearnerTopicsSupport.published(topics, settings);
    }
}
