package io.streamrlhf.loop.demo;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.evaluator.live.LoopMonitor;
import io.streamrlhf.evaluator.live.PassProbe;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.MetricsReporter;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.loop.component.LearnerComponent;
import io.streamrlhf.loop.component.PromptPacer;
import io.streamrlhf.loop.component.RewardStreamComponent;
import io.streamrlhf.loop.component.WorkerPoolComponent;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.loop.supervision.Supervisor;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.sft.SftJob;
import io.streamrlhf.models.sft.SftResult;
import io.streamrlhf.models.sft.SftTrainer;
import io.streamrlhf.models.world.SentimentTask;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.VerifiablePromptFeed;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code rlhf demo --task verifiable}: the loop trained on a verifier's reward instead of reward models. The synthetic
 * world's {@link SentimentTask} ("do the positive or the negative words win?"): an SFT policy from noisy
 * demonstrations (cached), its pass rate and best-of-8 by the verifier on held-out prompts; then the embedded broker and registry, a policy
 * worker, the reward stream scoring with the {@code verify:prompt} source (each prompt carries its reference answer and
 * verifier) and the learner with group-relative advantages (GRPO) over each prompt's samples, for the loop budget;
 * then the final policy's pass rate on the same held-out prompts. No reward models, raters or gold reward.
 */
public final class VerifiableLoop {

    /** The reward stream's source: the verifier each prompt names, 1 for a pass and 0 for a failure. */
    public static final String REWARD = "verify:prompt;name=verifier";
    /** SFT demonstrations drawn for the starting policy (and held-out ones for its perplexity). */
    static final int DEMONSTRATIONS = 20_000;
    static final int HELD_OUT_DEMONSTRATIONS = 256;
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    private static final Duration STREAM_READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration LEARNER_FINISH = Duration.ofSeconds(60);

    private final DemoOptions options;
    private final PrintWriter log;
    private final Supervisor supervisor = new Supervisor();
    private volatile boolean aborted;
    private volatile Thread runningThread;
    private final CountDownLatch finished = new CountDownLatch(1);
    private long maxUpdates = Long.MAX_VALUE;
    private boolean secure;

    /**
     * @param options the run's settings ({@link DemoOptions#verifiableDefaults()} and the flags given)
     * @param log     where people read progress (stderr)
     */
    public VerifiableLoop(DemoOptions options, PrintWriter log) {
        this.options = options;
        this.log = log;
    }

    /**
     * Ends the loop once the learner has made {@code updates} updates, or when the time budget runs out, whichever
     * comes first: a budget in work rather than time, which a busy machine only slows down (what the test states).
     * Call before {@link #run()}.
     */
    public VerifiableLoop stopAfterUpdates(long updates) {
        if (updates < 1) {
            throw new IllegalArgumentException("the update budget must be >= 1, got " + updates);
        }
        this.maxUpdates = updates;
        return this;
    }

    /**
     * Runs the cluster secure (TLS, SASL/SCRAM-SHA-512, least-privilege ACLs) with each component as its own
     * principal ({@link DemoPrincipals}), or plaintext (the default). Call before {@link #run()}.
     */
    public VerifiableLoop secure(boolean secure) {
        this.secure = secure;
        return this;
    }

    /** Asks a running {@link #run()} to stop now, cleanly (from a shutdown hook or another thread). */
    public void abort() {
        aborted = true;
        Thread t = runningThread;
        if (t != null) {
            t.interrupt();
        }
    }

    /** Whether {@link #abort()} was called. */
    public boolean aborted() {
        return aborted;
    }

    /**
     * Runs the demo: starting policy, baseline, loop, final measurement.
     *
     * @throws LoopFailureException naming the component that failed
     */
    public VerifiableResult run() {
        runningThread = Thread.currentThread();
        long t0 = System.nanoTime();
        Path work = createWorkDir();
        try (supervisor) {
            ModelRuntime.init(options.threads());
            // The registry is a child JVM that takes seconds to start, mostly on the other core: it starts while
            // this thread trains and measures the SFT policy.
            log.println("Starting the embedded Kafka broker and schema registry in the background...");
            log.flush();
            DemoPrincipals principals = secure ? DemoPrincipals.secure(DemoProfile.demo()) : DemoPrincipals.plaintext();
            // Its keys are deleted once the cluster, started after it, has stopped.
            supervisor.start(SupervisedComponent.resource("the cluster's keys", principals));
            ClusterStart clusterStart = new ClusterStart(principals);
            supervisor.start(clusterStart);
            Sft sft = prepareSft();
            PassProbe probe = new PassProbe(PassProbe.heldOutItems(options.seed(), options.evalPrompts()),
                    DemoRunner.BEST_OF, options.maxNewTokens(), options.seed() + 101);
            PassProbe.Score before;
            try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(CheckpointStore.load(sft.dir()))) {
                before = probe.score(policy);
            }
            log.printf(Locale.ROOT, "Baseline on %d held-out prompts: SFT pass rate %.3f; best-of-%d by the verifier "
                    + "%.3f%n", options.evalPrompts(), before.pass(), DemoRunner.BEST_OF, before.bestOfN());
            log.flush();
            checkAborted();
            Loop loop = runLoop(clusterStart.await(), principals, sft.dir(), work);
            PassProbe.Score after = before;
            long finalVersion = 0;
            Optional<LearnerCheckpoint> newest = new LearnerCheckpointStore(work.resolve("learner")).loadNewest();
            if (newest.isPresent()) {
                finalVersion = newest.get().version();
                try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(newest.get().policy())) {
                    after = probe.score(policy);
                }
            }
            double kl = newest.map(c -> c.metrics().getOrDefault("policy/kl_ref", Double.NaN)).orElse(0.0);
            return new VerifiableResult(options.seed(), options.evalPrompts(), before.pass(), before.bestOfN(),
                    after.pass(), after.bestOfN(), kl, finalVersion, loop.updates(), loop.generations(),
                    loop.scored(), loop.seconds(), sft.seconds(), sft.cached(), (System.nanoTime() - t0) / 1e9);
        } finally {
            runningThread = null;
            deleteRecursively(work);
            finished.countDown();
        }
    }

    /**
     * Waits until {@link #run()} has stopped everything it started (for a shutdown hook, which must not let the JVM
     * exit while the registry's child process still runs).
     *
     * @return false if it took longer than {@code timeout}
     */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private record Sft(Path dir, boolean cached, double seconds) {
    }

    /** The SFT policy on the task's noisy demonstrations: from the cache, or trained (first run only). */
    private Sft prepareSft() {
        Path dir = options.cacheDir().resolve("verifiable-sft-seed" + options.seed() + "-steps" + options.sftSteps());
        if (isCheckpoint(dir)) {
            log.printf("SFT policy: cached at %s%n", dir);
            return new Sft(dir, true, 0);
        }
        log.printf("SFT policy: training %d steps on %d noisy demonstrations of the sentiment-count task (first run "
                + "only; cached at %s)%n", options.sftSteps(), DEMONSTRATIONS, dir);
        log.flush();
        long t0 = System.nanoTime();
        SftConfig config = SftConfig.demo().withSeed(options.seed()).withSteps(options.sftSteps());
        // Demonstrations from seeds neither the prompt feed nor the held-out probe use.
        SentimentTask task = SentimentTask.standard(options.seed() * 31L + 17L);
        SyntheticWorld world = SyntheticWorld.standard();
        SftTrainer trainer = new SftTrainer(world, config, task.demonstrations(DEMONSTRATIONS),
                task.demonstrations(HELD_OUT_DEMONSTRATIONS));
        try (TransformerPolicy policy = TransformerPolicy.create(config.model(), config.seed())) {
            SftResult r = trainer.train(policy, options.showProgress());
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("source", "sft");
            meta.put("world", SftJob.WORLD);
            meta.put("task", SentimentTask.CATEGORY);
            meta.put("version", "0");
            meta.put("sft.steps", Integer.toString(r.steps()));
            meta.put("sft.seed", Long.toString(config.seed()));
            CheckpointStore.save(policy.toCheckpoint(meta, null), dir);
            double seconds = (System.nanoTime() - t0) / 1e9;
            log.printf(Locale.ROOT, "SFT policy: held-out perplexity %.2f -> %.2f in %.1f s%n", r.initialPerplexity(),
                    r.finalPerplexity(), seconds);
            return new Sft(dir, false, seconds);
        }
    }

    private record Loop(long generations, long scored, long updates, double seconds) {
    }

    /** The cluster, the reward stream, the learner, the worker and the prompts, for the budget; then an orderly stop. */
    private Loop runLoop(EmbeddedCluster cluster, DemoPrincipals principals, Path sftDir, Path work) {
        log.printf("bootstrap=%s registry=%s%n", cluster.bootstrapServers(), cluster.registryUrl());
        DemoProfile profile = DemoProfile.demo();
        CatalogTopics catalog = DemoRunner.createTopics(cluster, profile, principals, log);
        // No credentials in the common settings: each part gets its own principal's.
        Map<String, Object> common = DemoPrincipals.withoutCredentials(catalog.settings());
        checkAborted();

        RewardStreamComponent stream = supervisor.start(new RewardStreamComponent(principals.rewardStream(
                rewardStream(profile, common, sftDir, work))));
        LearnerComponent learner = supervisor.start(new LearnerComponent(principals.learner(
                learner(profile, common, sftDir, work)), catalog.topics()));
        WorkerPoolComponent workers = supervisor.start(new WorkerPoolComponent(principals.worker(
                worker(profile, common)), 1, Optional.of(new WorkerPool.Bootstrap(CheckpointStore.load(sftDir), 0))));
        try {
            stream.awaitRunning(STREAM_READY_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            checkAborted();
            throw new LoopFailureException("interrupted while waiting for the reward stream to start");
        }
        LoopMonitor monitor = new LoopMonitor(catalog.topics(), principals.monitor(common),
                options.batchSequences(), options.batchSequences(), null, MetricsReporter.COMPONENT);
        supervisor.start(SupervisedComponent.of("the topic monitor", monitor::start, monitor::failure, monitor));
        PromptSender sender = new PromptSender(catalog.topics(), principals.prompts(common));
        supervisor.start(SupervisedComponent.resource("the prompt sender", sender));
        PromptPacer pacer = supervisor.start(new PromptPacer(new VerifiablePromptFeed(options.seed(),
                options.groupSize())::next, sender, options.promptsPerBatch(), options.backlogBatches(),
                options.lockstep(), learner::updates, workers::slowestVersion));
        log.printf(Locale.ROOT, "Loop running (GRPO on the verifier's reward, β %.3g, lr %.3g, %d-sequence batches, "
                        + "groups of %d) for up to %s; Ctrl-C stops it cleanly.%n", options.beta(),
                options.learningRate(), options.batchSequences(), options.groupSize(),
                DemoRunner.human(options.loopBudget()));
        log.flush();

        long start = System.nanoTime();
        long nextProgress = start + PROGRESS_EVERY.toNanos();
        while (System.nanoTime() - start < options.loopBudget().toNanos() && !aborted
                && learner.updates() < maxUpdates) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                break;  // abort()
            }
            supervisor.check();
            if (options.showProgress() && System.nanoTime() >= nextProgress) {
                log.println(progress(monitor.snapshot(), learner.version()));
                log.flush();
                nextProgress += PROGRESS_EVERY.toNanos();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        log.println(aborted ? "Stopping (interrupted)..." : "Stopping the loop...");
        log.flush();
        supervisor.check();
        supervisor.stop(pacer);
        supervisor.stop(workers);
        learner.finish(LEARNER_FINISH);
        checkAborted();
        return new Loop(workers.generations(), monitor.snapshot().scored(), learner.updates(), seconds);
    }

    /** One progress line: versions, generations scored, and the pass rate of the newest version's scored samples. */
    static String progress(LoopMonitor.Snapshot s, long learnerVersion) {
        String newest = "-";
        if (!s.versions().isEmpty()) {
            LoopMonitor.VersionPoint v = s.versions().get(s.versions().size() - 1);
            newest = String.format(Locale.ROOT, "v%d %.3f over %d", v.version(), v.rawProxy(), v.count());
        }
        return String.format(Locale.ROOT, "  %5.0fs  policy v%d, scored %d, pass rate of the newest version's "
                + "samples %s", s.seconds(), learnerVersion, s.scored(), newest);
    }

    /** The reward stream: the verifier of each prompt as the only source; the reference's log-probs beside it. */
    Map<String, Object> rewardStream(DemoProfile profile, Map<String, Object> common, Path sftDir, Path work) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("reward.", "scoring.", "feedback."));
        s.put(RewardStreamConfig.SOURCES, REWARD);
        s.put(RewardStreamConfig.AGGREGATION, options.aggregation());
        s.put(RewardStreamConfig.BATCH_SIZE, Math.min(profile.getInt(RewardStreamConfig.BATCH_SIZE),
                options.batchSequences()));
        s.put(RewardStreamConfig.STATE_DIR, work.resolve("streams").toString());
        if (!options.referenceInLearner()) {
            s.put(RewardStreamConfig.REFERENCE_CHECKPOINT, sftDir.toAbsolutePath().toString());
        }
        return s;
    }

    /** The learner: the options' estimator (GRPO by default), β, learning rate; no pre-training mix. */
    Map<String, Object> learner(DemoProfile profile, Map<String, Object> common, Path sftDir, Path work) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("learner.", "ppo."));
        s.put(LearnerConfig.INIT_CHECKPOINT, sftDir.toAbsolutePath().toString());
        s.put(LearnerConfig.CHECKPOINT_DIR, work.resolve("learner").toString());
        s.put(LearnerConfig.BATCH_SEQUENCES, options.batchSequences());
        s.put(LearnerConfig.THREADS, options.threads());
        s.put(PpoConfig.KL_COEF, options.beta());
        s.put(PpoConfig.LEARNING_RATE, options.learningRate());
        // Two minibatches a batch: with the profile's 32 a 128-sequence batch took 8 optimiser steps an update at this
        // learning rate, and one VerifiableDemoIT run in three fell below the SFT policy's pass rate; 4 steps (as at
        // 64 sequences and 32) on less noisy gradients.
        s.put(PpoConfig.MINIBATCH_SIZE, Math.max(1, options.batchSequences() / 2));
        s.put(PpoConfig.SEED, options.seed());
        s.put(PpoConfig.ADVANTAGE_ESTIMATOR, options.estimator());
        // The synthetic corpus is not this task's: no pre-training mix unless --ppo asks for one.
        s.put(PpoConfig.PTX_COEF, 0.0);
        s.putAll(options.ppoOverrides());
        return s;
    }

    private Map<String, Object> worker(DemoProfile profile, Map<String, Object> common) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("worker."));
        s.put(WorkerConfig.WORKER_ID, DemoSettings.WORKER_ID);
        s.put(WorkerConfig.BATCH_MAX_SIZE, options.batchSequences());
        s.put(WorkerConfig.MAX_NEW_TOKENS, options.maxNewTokens());
        s.put(WorkerConfig.SEED, options.seed());
        return s;
    }

    /**
     * The embedded cluster, started on a thread of its own and stopped with the rest (last, as it started first);
     * stopping it before it is up waits for the start and then closes it.
     */
    private final class ClusterStart implements SupervisedComponent {
        private final CompletableFuture<EmbeddedCluster> cluster = new CompletableFuture<>();
        private final DemoPrincipals principals;

        ClusterStart(DemoPrincipals principals) {
            this.principals = principals;
        }

        @Override
        public String name() {
            return "the embedded cluster";
        }

        @Override
        public void start() {
            Thread t = new Thread(() -> {
                try {
                    cluster.complete(EmbeddedCluster.builder().security(principals.security().orElse(null)).start());
                } catch (Throwable e) {
                    cluster.completeExceptionally(e);
                }
            }, "rlhf-demo-cluster-start");
            t.setDaemon(true);
            t.start();
        }

        /** The started cluster; fails the demo naming the cluster when it could not start. */
        EmbeddedCluster await() {
            try {
                return cluster.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                checkAborted();
                throw new LoopFailureException("interrupted while the embedded cluster started");
            } catch (ExecutionException e) {
                throw new LoopFailureException("the embedded cluster could not start: " + e.getCause().getMessage(),
                        e.getCause());
            }
        }

        @Override
        public void check() {
            if (cluster.isCompletedExceptionally()) {
                await();
            }
        }

        @Override
        public void stop() {
            try {
                cluster.get().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // the start thread is a daemon: an interrupted stop leaves it to the JVM's exit
            } catch (ExecutionException e) {
                // nothing started, nothing to close
            }
        }
    }

    private void checkAborted() {
        if (aborted) {
            throw new LoopFailureException("interrupted");
        }
    }

    private static boolean isCheckpoint(Path dir) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try {
            CheckpointStore.verify(dir);
            return true;
        } catch (RuntimeException e) {
            return false;  // half-written or damaged: train again
        }
    }

    private static Path createWorkDir() {
        try {
            return Files.createTempDirectory("rlhf-verifiable-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the demo", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a leftover temporary directory is harmless
        }
    }
}
