package io.streamrlhf.learner.app;

import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The learner's failover, measured: two {@link LearnerService}s of one policy on synthetic scored data, the active
 * one killed half-way ({@link Death}: a child JVM SIGKILLed, or silenced in this JVM, its lease thread frozen and its
 * training thread blocked before its next update, as SIGSTOP leaves it; either way the group learns of it only
 * through the session timeout), the standby taking over. Reports
 * the takeover time (silence → the standby's first version) and the committed version records, which the caller
 * fetches as a worker would.
 *
 * <p>The two learners share no directory: each has a checkpoint directory of its own and
 * {@code learner.state.topic.enabled}, so the standby resumes from the state the active one published on Kafka, as on
 * separate machines.
 *
 * <p>Silenced, both learners run in this JVM, and the silenced one is resumed only after the standby has finished
 * (one JVM holds one gradient collector at a time); it is then fenced and publishes nothing.
 */
public final class FailoverBench {

    private static final int GROUP_SIZE = 4;
    private static final int BATCH = 8;

    private FailoverBench() {
    }

    /**
     * What one run did.
     *
     * @param takeoverSeconds death (SIGKILL or silence) of the active learner → the standby's first new version
     * @param published       the committed version records, in order
     * @param settings        the client and learner settings the learners ran with (for a worker to fetch)
     * @param init            the starting policy's checkpoint directory
     */
    public record Run(double takeoverSeconds, List<PolicyVersion> published, Map<String, Object> settings,
                      Path init) {
    }

    /**
     * Runs the failover on the cluster at {@code bootstrap}/{@code registryUrl}.
     *
     * @param dir            a scratch directory (the learners' checkpoint directories and the starting policy)
     * @param versions       versions to publish in all (at least 4); the active learner goes silent after half
     * @param fullEvery      {@link LearnerConfig#DELTA_FULL_EVERY}
     * @param sessionTimeout the lease's session timeout (the takeover waits for it)
     * @param death          how the active learner dies
     */
    public static Run run(String bootstrap, String registryUrl, Path dir, TransformerConfig shape, int versions,
                             int fullEvery, Duration sessionTimeout, Death death, long seed, Consumer<String> progress)
            throws InterruptedException, java.io.IOException {
        if (versions < 4) {
            throw new IllegalArgumentException("versions must be at least 4, got " + versions);
        }
        String prefix = "failover" + UUID.randomUUID().toString().substring(0, 8) + ".";
        CatalogTopics catalog = CatalogTopics.on(bootstrap, registryUrl).prefix(prefix).partitions(2).create();
        Topics topics = catalog.topics();
        Map<String, Object> settings = new HashMap<>(catalog.settings());
        writeScored(topics, bootstrap, versions * BATCH, shape.vocabSize(), seed);
        ModelRuntime.init(1);
        Path init = dir.resolve("sft");
        try (TransformerPolicy sft = TransformerPolicy.create(shape, seed)) {
            CheckpointStore.save(sft.toCheckpoint(Map.of("version", "0"), null), init);
        }
        settings.put(LearnerConfig.INIT_CHECKPOINT, init.toString());
        settings.put(LearnerConfig.BATCH_SEQUENCES, Integer.toString(BATCH));
        settings.put(LearnerConfig.MAX_UPDATES, Integer.toString(versions));
        settings.put(LearnerConfig.GROUP_ID, prefix + "learner");
        settings.put(LearnerConfig.THREADS, "1");
        settings.put(LearnerConfig.LEASE_SESSION_TIMEOUT_MS, Long.toString(sessionTimeout.toMillis()));
        settings.put(LearnerConfig.CHECKPOINT_TOPIC, "true");
        settings.put(LearnerConfig.STATE_TOPIC, "true");
        settings.put(LearnerConfig.DELTA_FULL_EVERY, Integer.toString(fullEvery));
        settings.put("ppo.advantage.estimator", "rloo");
        settings.put("ppo.epochs", "1");
        settings.put("ppo.minibatch.size", Integer.toString(BATCH));
        // The synthetic generations all carry policy version 0: every update must train on them, not drop them as
        // stale, or the later versions would not move the weights and their deltas would flatter.
        settings.put("ppo.max.staleness", Integer.toString(versions + 1));

        Map<String, Object> settingsA = ownDirectory(settings, dir, "a");
        Map<String, Object> settingsB = ownDirectory(settings, dir, "b");
        long silentAfter = versions / 2;
        if (death == Death.SIGKILL) {
            double takeover = killed(settingsA, settingsB, topics, bootstrap, dir, silentAfter, progress);
            return new Run(takeover, published(topics, bootstrap), settings, init);
        }
        CountDownLatch silenced = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        AtomicLong silencedAt = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LearnerService a = new LearnerService(new LearnerConfig(settingsA), topics, settingsA);
        LearnerService b = new LearnerService(new LearnerConfig(settingsB), topics, settingsB);
        a.beforeUpdate(() -> {
            if (a.version() == silentAfter && silenced.getCount() > 0) {
                a.lease().freeze(true);
                silencedAt.set(System.nanoTime());
                silenced.countDown();
                try {
                    resume.await(10, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread ta = start(a, "learner-a", failure);
        Thread tb = null;
        double takeover;
        try {
            await(() -> a.active() || !ta.isAlive(), 60, "learner a holds the lease");
            if (!a.active()) {
                throw new IllegalStateException("learner a stopped before it held the lease: " + failure.get()
                        + " (see its log)");
            }
            tb = start(b, "learner-b", failure);
            progress.accept("learner a active, learner b standing by; a goes silent after version " + silentAfter);
            if (!silenced.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("learner a did not reach version " + silentAfter + ": "
                        + failure.get());
            }
            await(() -> b.version() > silentAfter, 120, "learner b publishes version " + (silentAfter + 1));
            takeover = (System.nanoTime() - silencedAt.get()) / 1e9;
            progress.accept(String.format(java.util.Locale.ROOT, "learner b took over and published version %d %.2f s after a "
                    + "went silent", b.version(), takeover));
            tb.join(TimeUnit.MINUTES.toMillis(10));
        } finally {
            resume.countDown();
            ta.join(TimeUnit.MINUTES.toMillis(2));
            a.stop();
            b.stop();
            ta.join(30_000);
            if (tb != null) {
                tb.join(30_000);
            }
            a.close();
            b.close();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("a learner failed: " + failure.get(), failure.get());
        }
        List<PolicyVersion> records = published(topics, bootstrap);
        return new Run(takeover, records, settings, init);
    }

    /** {@code settings} with the checkpoint directory {@code <dir>/checkpoints-<learner>}, shared with no one. */
    private static Map<String, Object> ownDirectory(Map<String, Object> settings, Path dir, String learner) {
        Map<String, Object> own = new HashMap<>(settings);
        own.put(LearnerConfig.CHECKPOINT_DIR, dir.resolve("checkpoints-" + learner).toString());
        return own;
    }

    /** How the active learner dies. */
    public enum Death {
        /** Its lease frozen and its training blocked in this JVM, as SIGSTOP leaves it; resumed and fenced after. */
        SILENCE,
        /** A child JVM running {@link LearnerMain}, killed with SIGKILL: no shutdown hook, no leaving the group. */
        SIGKILL
    }

    /**
     * Learner a in a child JVM, b in this one; a is SIGKILLed once it has published {@code killAfter}. The takeover
     * runs from the kill to the first version newer than every version a published.
     */
    private static double killed(Map<String, Object> settingsA, Map<String, Object> settingsB, Topics topics,
                                 String bootstrap, Path dir, long killAfter, Consumer<String> progress)
            throws InterruptedException, java.io.IOException {
        java.util.Properties props = new java.util.Properties();
        settingsA.forEach((k, v) -> props.setProperty(k, String.valueOf(v)));
        Path file = dir.resolve("learner-a.properties");
        try (java.io.Writer w = java.nio.file.Files.newBufferedWriter(file)) {
            props.store(w, "learner a of rlhf bench failover");
        }
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "-Xmx1g", "-Dai.djl.offline=true"));
        String cache = System.getProperty("DJL_CACHE_DIR");
        if (cache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + cache);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LearnerMain.class.getName(),
                file.toString()));
        Path log = dir.resolve("learner-a.log");
        Process a = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        LearnerService b = null;
        Thread tb = null;
        try {
            awaitPublished(topics, bootstrap, 1, a, log, 180, "learner a (child JVM) publishes version 1");
            b = new LearnerService(new LearnerConfig(settingsB), topics, settingsB);
            tb = start(b, "learner-b", failure);
            progress.accept("learner a (pid " + a.pid() + ") active, learner b standing by; a is SIGKILLed after "
                    + "version " + killAfter);
            awaitPublished(topics, bootstrap, killAfter, a, log, 600, "learner a publishes version " + killAfter);
            a.destroyForcibly();  // SIGKILL: no shutdown hook runs, the group learns of it by the session timeout
            long killedAt = System.nanoTime();
            a.waitFor(30, TimeUnit.SECONDS);
            long lastOfA = newest(published(topics, bootstrap));
            awaitPublished(topics, bootstrap, lastOfA + 1, null, log, 120, "learner b publishes version "
                    + (lastOfA + 1));
            double takeover = (System.nanoTime() - killedAt) / 1e9;
            progress.accept(String.format(java.util.Locale.ROOT, "learner a SIGKILLed after version %d; learner b "
                    + "published version %d %.2f s later", lastOfA, lastOfA + 1, takeover));
            tb.join(TimeUnit.MINUTES.toMillis(10));
            if (failure.get() != null) {
                throw new IllegalStateException("learner b failed: " + failure.get(), failure.get());
            }
            return takeover;
        } finally {
            a.destroyForcibly();
            if (b != null) {
                b.stop();
                tb.join(30_000);
                b.close();
            }
        }
    }

    private static long newest(List<PolicyVersion> versions) {
        return versions.stream().mapToLong(PolicyVersion::getVersion).max().orElse(0);
    }

    /** Waits until a version at least {@code version} is published; fails early when {@code child} dies. */
    private static void awaitPublished(Topics topics, String bootstrap, long version, Process child, Path log,
                                       int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (newest(published(topics, bootstrap)) < version) {
            if (child != null && !child.isAlive()) {
                throw new IllegalStateException("learner a exited (" + child.exitValue() + ") before " + what
                        + "; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + seconds + " s waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    private static Thread start(LearnerService learner, String name, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                learner.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void await(java.util.function.BooleanSupplier condition, int seconds, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + seconds + " s waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    /** Synthetic scored generations in prompt groups, random tokens and rewards. */
    private static void writeScored(Topics topics, String bootstrap, int records, int vocab, long seed) {
        TopicSpec<String, ScoredGeneration> scored = topics.scored();
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        Random random = new Random(seed);
        try (KafkaProducer<String, ScoredGeneration> producer = new KafkaProducer<>(props, scored.keySerializer(),
                scored.valueSerializer())) {
            for (int g = 0; g < (records + GROUP_SIZE - 1) / GROUP_SIZE; g++) {
                String promptId = "prompt-" + g;
                for (int i = 0; i < GROUP_SIZE; i++) {
                    producer.send(new ProducerRecord<>(scored.name(), promptId,
                            scored(promptId + "-gen-" + i, promptId, i, vocab, random)));
                }
            }
            producer.flush();
        }
    }

    /**
     * A scored generation of a group of {@value #GROUP_SIZE} with random prompt, response and reward over {@code vocab}
     * ids, as a worker and the reward stream would have written it; the learner's tests feed the same records.
     */
    static ScoredGeneration scored(String id, String promptId, int index, int vocab, Random random) {
        List<Integer> prompt = List.of(1, 2 + random.nextInt(10), 3 + random.nextInt(10));
        int n = 4 + random.nextInt(8);
        List<Integer> response = new ArrayList<>();
        List<Float> logprobs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            response.add(random.nextInt(vocab));
            logprobs.add((float) -Math.log(vocab));
        }
        Instant now = Instant.now();
        Generation g = Generation.newBuilder().setGenerationId(id).setPromptId(promptId).setGroupSize(GROUP_SIZE)
                .setGroupIndex(index).setPromptTokens(prompt).setResponseTokens(response).setPromptText("p")
                .setResponseText("r").setBehaviourLogprobs(logprobs).setPolicyName("policy").setPolicyVersion(0)
                .setWorkerId("bench").setFinishReason(FinishReason.MAX_TOKENS)
                .setSampling(SamplingParams.newBuilder().setTemperature(1f).setMaxNewTokens(12).build())
                .setStartedAt(now).setCreatedAt(now).build();
        double reward = random.nextGaussian();
        return ScoredGeneration.newBuilder().setGeneration(g).setScores(List.of()).setEnsembleMean(reward)
                .setEnsembleStd(0.0).setEnsembleMin(reward).setAggregation("mean").setReward(reward).setScoredAt(now)
                .build();
    }

    /** The committed version records of policy {@code "policy"}, in order (the failover tests read them too). */
    static List<PolicyVersion> published(Topics topics, String bootstrap) {
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<PolicyVersion> versions = new ArrayList<>();
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            TopicPartition tp = new TopicPartition(spec.name(), 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    if ("policy".equals(r.key()) && r.value() != null) {
                        versions.add(r.value());
                    }
                }
            }
        }
        return versions;
    }
}
