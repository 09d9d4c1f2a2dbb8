package io.streamrlhf.cli.demo;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.LearnerService;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.feedback.GenerationTail;
import io.streamrlhf.producer.feedback.KafkaFeedbackSink;
import io.streamrlhf.producer.feedback.RecentGenerations;
import io.streamrlhf.producer.feedback.SimulatedRaters;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.SortedMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One demo run, start to finish: starting models (cached), the embedded cluster and topics, the baseline
 * measurements, then every component of the loop together for the time budget, supervised; then an orderly stop, the
 * final measurement, the summary and the report.
 *
 * <p>Components and where they run: the policy workers, the reward stream (Kafka Streams), the PPO learner, the
 * simulated raters and the prompt feeder run in this JVM on their own threads; the online reward-model trainer runs
 * as a child JVM (DJL allows one training {@code GradientCollector} per JVM, and the learner trains here). The broker
 * runs in this JVM and the schema registry is the embedded cluster's child process.
 *
 * <p>Any component that fails ends the run with a {@link DemoFailureException} naming it; everything started is
 * stopped in reverse order whatever happens, and {@link #abort()} (Ctrl-C) asks for the same orderly stop.
 */
public final class DemoRunner {

    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);
    /** Name of the policy on {@code policy.versions}. */
    static final String POLICY = "policy";
    /** Best-of-n of the baseline. */
    static final int BEST_OF = 8;
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
    /** Learner batches of scored generations whose mean gold must reach a stop target (4 x 64: standard error ~0.05). */
    static final int TARGET_WINDOW_BATCHES = 4;
    /** How long the reward stream may take to start (join its group, restore its stores) before the demo fails. */
    static final Duration STREAM_READY_TIMEOUT = Duration.ofSeconds(60);
    /** Nice value added to the reward-model trainer's process where it cannot run under SCHED_IDLE. */
    static final int TRAINER_NICENESS = 10;

    private final DemoOptions options;
    private final PrintWriter log;
    private final boolean interactive;
    private final List<AutoCloseable> started = new ArrayList<>();
    private volatile boolean aborted;
    private volatile Thread runningThread;
    private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);

    /**
     * @param options     the run's settings
     * @param log         where people read progress (stderr)
     * @param interactive redraw one progress line in place (a terminal) rather than print a line every few seconds
     */
    public DemoRunner(DemoOptions options, PrintWriter log, boolean interactive) {
        this.options = options;
        this.log = log;
        this.interactive = interactive;
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
     * Runs the demo.
     *
     * @return the measurements
     * @throws DemoFailureException naming the component that failed
     */
    public DemoResult run() {
        runningThread = Thread.currentThread();
        long t0 = System.nanoTime();
        Path work = createWorkDir();
        try {
            return runIn(work, t0);
        } finally {
            stopAll();
            runningThread = null;
            if (System.getenv("RLHF_DEMO_KEEP_WORK") == null) {
                deleteRecursively(work);
            } else {
                // For debugging a run: the learner's checkpoints, the trainer's and the logs stay.
                System.err.println("rlhf demo: RLHF_DEMO_KEEP_WORK is set; kept " + work);
            }
            finished.countDown();
        }
    }

    /**
     * Waits until {@link #run()} has stopped everything it started (for a shutdown hook: it must not wait for the
     * main thread itself, which may be blocked in {@code System.exit} once the JVM is shutting down).
     *
     * @return false if it took longer than {@code timeout}
     */
    public boolean awaitStopped(Duration timeout) throws InterruptedException {
        return finished.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private DemoResult runIn(Path work, long t0) {
        ModelRuntime.init(options.threads());
        StartingModels models = StartingModels.prepare(options, log);
        checkAborted();

        // Baseline: the SFT policy, and best-of-8 reranking of its samples by the initial ensemble.
        List<TransformerRewardModel> rms = models.rmMemberDirs().stream()
                .map(d -> TransformerRewardModel.fromCheckpoint(CheckpointStore.load(d))).toList();
        started.add(() -> rms.forEach(TransformerRewardModel::close));
        GoldProbe probe = new GoldProbe(GoldProbe.heldOutPrompts(options.seed(), options.evalPrompts()),
                options.maxNewTokens(), options.seed(), rms);
        GoldProbe.Baseline baseline;
        try (TransformerPolicy sft = TransformerPolicy.fromCheckpoint(CheckpointStore.load(models.sftDir()))) {
            baseline = probe.baseline(sft, BEST_OF);
        }
        log.printf(Locale.ROOT, "Baseline on %d held-out prompts: SFT gold %.3f; best-of-%d by the reward-model "
                + "ensemble gold %.3f%n", options.evalPrompts(), baseline.sft().gold(), BEST_OF, baseline.bestOfNGold());
        log.flush();
        checkAborted();

        // The cluster and the topics.
        log.println("Starting the embedded Kafka broker and schema registry...");
        log.flush();
        EmbeddedCluster cluster = EmbeddedCluster.builder().start();
        started.add(cluster);
        log.printf("bootstrap=%s registry=%s%n", cluster.bootstrapServers(), cluster.registryUrl());
        Map<String, Object> settings = new HashMap<>();
        settings.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        settings.put("schema.registry.url", cluster.registryUrl());
        settings.put(TopicsConfig.PREFIX, TopicsConfig.DEFAULT_PREFIX);
        // One partition per topic: one worker, one stream task and one learner share two cores best this way.
        settings.put(TopicsConfig.PARTITIONS, 1);
        settings.put(TopicsConfig.REPLICATION_FACTOR, (short) 1);
        Topics topics = Topics.create(settings);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            new TopicCreator(admin).create(topics.all());
        }
        topics.registerSchemas();
        checkAborted();

        // The reward stream, scoring with the initial ensemble (version 1 of rm-0..rm-M-1) until the trainer
        // publishes newer versions.
        models.seedOnlineTrainer(work.resolve("rm"));
        Map<String, Object> stream = new HashMap<>(settings);
        stream.put(RewardStreamConfig.APPLICATION_ID, "rlhf-demo-reward-stream");
        stream.put(RewardStreamConfig.SOURCES, rewardSources(models));
        stream.put(RewardStreamConfig.AGGREGATION, options.aggregation());
        stream.put(RewardStreamConfig.UNCERTAINTY_K, 1.0);
        stream.put(RewardStreamConfig.BATCH_SIZE, Math.min(64, options.batchSequences()));
        stream.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        stream.put(RewardStreamConfig.STATE_DIR, work.resolve("streams").toString());
        if (!options.referenceInLearner()) {
            // The reference's log-probs are computed beside the reward models, off the learner's critical path.
            stream.put(RewardStreamConfig.REFERENCE_CHECKPOINT, models.sftDir().toAbsolutePath().toString());
        }
        ScoringApp scoring = ScoringApp.create(stream);
        started.add(() -> scoring.close(Duration.ofSeconds(20)));
        scoring.start();

        // The PPO learner, here (it trains; the reward-model trainer is the child process).
        Map<String, Object> learnerSettings = learnerSettings(settings, models, work);
        LearnerService learner = new LearnerService(new LearnerConfig(learnerSettings), topics, learnerSettings);
        AtomicReference<Throwable> learnerFailure = new AtomicReference<>();
        Thread learnerThread = new Thread(() -> {
            try {
                learner.run();
            } catch (Throwable t) {
                learnerFailure.set(t);
                LOG.error("the PPO learner failed", t);
            }
        }, "demo-learner");
        started.add(() -> {
            learner.stop();
            learnerThread.join(60_000);
            learner.close();
        });
        learnerThread.start();

        // The reward-model trainer, a child JVM.
        // Its log outlives the run: beside the report, or in the cache directory.
        Path trainerLog = logDir().resolve("rm-trainer.log");
        // It learns in the background, on the CPU the policy loop leaves, instead of slowing the learner on the
        // critical path (on two cores it asks for a third of one): under SCHED_IDLE where Linux allows it, else at
        // nice 10. Idle time is plentiful: in lockstep most of a core, in streaming the gaps between the stages.
        ChildJvm trainer = ChildJvm.start("reward-model trainer", 1024, TRAINER_NICENESS, true, trainerLog,
                "io.streamrlhf.cli.Rlhf",
                List.of("train-rm", "--online", "--config", writeTrainerConfig(settings, models, work).toString(),
                        "--no-progress", "--threads", Integer.toString(options.threads())));
        started.add(() -> {
            // Killing it mid-round is safe (its checkpoints are atomic) and the demo is over; do not wait long.
            trainer.stop(Duration.ofSeconds(10));
        });

        // The policy workers, starting from the SFT policy as version 0.
        Map<String, Object> workerSettings = new HashMap<>(settings);
        workerSettings.put(WorkerConfig.POLICY_NAME, POLICY);
        workerSettings.put(WorkerConfig.WORKER_ID, "demo-worker");
        workerSettings.put(WorkerConfig.BATCH_MAX_SIZE, options.batchSequences());
        workerSettings.put(WorkerConfig.BATCH_MAX_WAIT_MS, 20L);
        workerSettings.put(WorkerConfig.MAX_NEW_TOKENS, options.maxNewTokens());
        workerSettings.put(WorkerConfig.SEED, options.seed());
        workerSettings.put(WorkerConfig.SHUTDOWN_GRACE_MS, 5_000L);
        WorkerPool workers = new WorkerPool(workerSettings, 1, Optional.of(new WorkerPool.Bootstrap(
                CheckpointStore.load(models.sftDir()), 0)), new SimpleMeterRegistry());
        started.add(workers);
        try {
            workers.start();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DemoFailureException("interrupted while starting the policy workers");
        }

        // Simulated raters labelling pairs of fresh generations: feedback -> (reward stream join) -> preferences.
        RecentGenerations recent = new RecentGenerations(256, options.groupSize());
        GenerationTail tail = new GenerationTail(topics, settings, recent, 0).start();
        started.add(tail);
        KafkaFeedbackSink sink = new KafkaFeedbackSink(topics, settings);
        started.add(sink);
        SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                new SimulatedRater(StartingModels.TAU, StartingModels.FLIP, options.seed() + 5), "demo",
                options.seed() + 6, new SimpleMeterRegistry());
        started.add(raters);
        raters.start(options.raterRate());

        // The loop starts with the first prompts, once the reward stream can score them. Kafka Streams takes a couple
        // of seconds to join its group and restore its stores; prompts sent before then would wait in the topic, and
        // every mode's clock (and bench e2e's time to the target) would include that start-up rather than the loop.
        awaitStream(scoring);
        LoopMonitor monitor = new LoopMonitor(topics, settings, options.batchSequences(),
                TARGET_WINDOW_BATCHES * options.batchSequences(), options.stopAtGold()).start();
        started.add(monitor);

        PromptPacer pacer = new PromptPacer(new SyntheticPromptFeed(options.seed(), options.groupSize()),
                new PromptSender(topics, settings), options.promptsPerBatch(), options.backlogBatches(),
                options.lockstep(), learner::updates, () -> slowestVersion(workers));
        started.add(pacer);
        pacer.start();
        log.printf(Locale.ROOT, "Loop running (%s, β %.3g, %d-sequence batches) for up to %s; Ctrl-C stops it cleanly.%n",
                options.lockstep() ? "LOCKSTEP: generation waits for every update" : "streaming", options.beta(),
                options.batchSequences(), human(options.loopBudget()));
        log.flush();

        // Streaming: the stages with slack yield to the learner's thread when they share a core (--stage-nice).
        // Lockstep's stages take turns with the learner instead of overlapping it, so there they keep nice 0.
        ThreadNiceness stages = new ThreadNiceness(options.lockstep() ? 0 : options.stageNice(),
                List.of("policy-sampler-", "reward-scorer-"));
        stages.apply();
        List<ThroughputPoint> throughput = new ArrayList<>();
        Supervised supervised = new Supervised(scoring, learnerFailure, learnerThread, trainer, workers, pacer, monitor);
        ProgressLine progress = new ProgressLine(baseline, options.lockstep());
        long loopStart = System.nanoTime();
        double jvmCpuAtStart = cpuSeconds(ProcessHandle.current());
        double trainerCpuAtStart = trainer.cpuSeconds();
        long deadline = loopStart + options.loopBudget().toNanos();
        long lastGenerations = 0;
        long lastScored = 0;
        double lastT = 0;
        LoopMonitor.Snapshot snap = monitor.snapshot();
        while (System.nanoTime() < deadline && !aborted) {
            try {
                Thread.sleep(PROGRESS_EVERY.toMillis());
            } catch (InterruptedException e) {
                break;  // abort()
            }
            supervised.check();
            stages.apply();  // threads that started since
            trainer.cpuSeconds();  // remembered: a process's CPU time cannot be read after it has gone
            snap = monitor.snapshot();
            double t = (System.nanoTime() - loopStart) / 1e9;
            long generations = generations(workers);
            ThroughputPoint point = new ThroughputPoint(t, (generations - lastGenerations) / (t - lastT),
                    (snap.scored() - lastScored) / (t - lastT), generations, snap.scored());
            throughput.add(point);
            lastGenerations = generations;
            lastScored = snap.scored();
            lastT = t;
            if (options.showProgress()) {
                String line = progress.format(snap, point, slowestVersion(workers), learner.version());
                if (interactive) {
                    log.print("\r" + line + "\u001b[K");
                } else if (throughput.size() % 5 == 1) {
                    log.println(line);
                }
                log.flush();
            }
            if (options.stopAtGold() != null && !Double.isNaN(snap.targetReachedAt())) {
                break;
            }
        }
        if (interactive && options.showProgress()) {
            log.println();
        }
        double loopSeconds = (System.nanoTime() - loopStart) / 1e9;
        double loopJvmCpu = cpuSeconds(ProcessHandle.current()) - jvmCpuAtStart;
        double loopTrainerCpu = trainer.cpuSeconds() - trainerCpuAtStart;
        if (aborted) {
            log.println("Stopping (interrupted)...");
        } else {
            log.println("Stopping the loop...");
        }
        log.flush();
        supervised.check();

        // Orderly stop of the producers of data, then read what they left. The reward-model trainer is told first:
        // it finishes its round in the background while the rest stops (its models no longer matter to the result).
        trainer.cpuSeconds();
        trainer.requestStop();
        closeQuietly(pacer);
        closeQuietly(raters);
        closeQuietly(workers);
        learner.stop();
        try {
            learnerThread.join(120_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (learnerFailure.get() != null) {
            throw new DemoFailureException("the PPO learner failed: " + describe(learnerFailure.get()),
                    learnerFailure.get());
        }
        long dlq = countDlqRecords(topics, cluster.bootstrapServers());
        snap = monitor.snapshot();
        SortedMap<Long, Map<String, Double>> learnerMetrics = monitor.learnerMetrics();

        // The final policy: the learner's newest checkpoint, measured like the SFT policy.
        LearnerCheckpointStore store = new LearnerCheckpointStore(work.resolve("learner"));
        Optional<LearnerCheckpoint> newest = store.loadNewest();
        GoldProbe.Score last;
        long finalVersion = newest.map(LearnerCheckpoint::version).orElse(0L);
        if (newest.isPresent()) {
            try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(newest.get().policy())) {
                last = probe.score(policy);
            }
        } else {
            last = baseline.sft();
        }
        double kl = klToReference(newest.map(LearnerCheckpoint::metrics), snap.updates());
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpu = cpuSeconds(ProcessHandle.current()) + trainer.cpuSeconds()
                + cluster.registry().process().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
        DemoResult result = new DemoResult(baseline.sft().gold(), baseline.bestOfNGold(), last.gold(), last.proxy(),
                baseline.sft().proxy(), kl, finalVersion, snap.versionsGenerating(), Math.max(0, snap.newestRm()),
                wall, loopSeconds, generations(workers), snap.scored(), snap.preferences(), dlq,
                snap.targetReachedAt(), options.lockstep(), options.beta(), options.seed(), models.sftCached(),
                models.sftSeconds(), models.rmSeconds(), models.rmHeldOutAccuracy(), cpu,
                snap.versionsPublishedAtTarget(), new DemoResult.LoopCost(loopJvmCpu, loopTrainerCpu,
                        meanUpdateSeconds(snap.updates()), meanReferenceGiven(snap.updates()),
                        meanMetric(learnerMetrics, "time/wait_s"), meanMetric(learnerMetrics, "time/commit_s"),
                        snap.publishedAt().getOrDefault(1L, Double.NaN)));
        if (options.reportDir() != null) {
            Path index = DemoReport.write(options.reportDir(), options, result, snap, throughput, learnerMetrics);
            log.printf("Report: %s%n", index.toAbsolutePath());
            log.flush();
        }
        return result;
    }

    /**
     * The final policy's KL to the reference: the newest checkpoint's {@code policy/kl_ref}. An update whose samples
     * were all dropped (stale) measures none, and a checkpoint after it carries none; then the newest update that
     * measured one, as the monitor saw it. 0 when nothing was trained (the final policy is the SFT policy).
     */
    static double klToReference(Optional<Map<String, Double>> checkpointMetrics, List<LoopMonitor.UpdatePoint> updates) {
        Double fromCheckpoint = checkpointMetrics.map(m -> m.get("policy/kl_ref")).orElse(null);
        if (fromCheckpoint != null && !fromCheckpoint.isNaN()) {
            return fromCheckpoint;
        }
        for (int i = updates.size() - 1; i >= 0; i--) {
            if (!Double.isNaN(updates.get(i).klRef())) {
                return updates.get(i).klRef();
            }
        }
        return 0.0;
    }

    /** The mean wall time of the updates the monitor saw; NaN if none. */
    static double meanUpdateSeconds(List<LoopMonitor.UpdatePoint> updates) {
        return updates.stream().mapToDouble(LoopMonitor.UpdatePoint::seconds).filter(s -> !Double.isNaN(s)).average()
                .orElse(Double.NaN);
    }

    /** The mean of one learner metric over the updates that reported it (NaN when none did). */
    static double meanMetric(SortedMap<Long, Map<String, Double>> learnerMetrics, String name) {
        return learnerMetrics.values().stream().map(m -> m.get(name)).filter(v -> v != null && !Double.isNaN(v))
                .mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** The share of the updates that used the reward stream's reference log-probs (NaN when none says). */
    static double meanReferenceGiven(List<LoopMonitor.UpdatePoint> updates) {
        return updates.stream().mapToDouble(LoopMonitor.UpdatePoint::referenceGiven).filter(s -> !Double.isNaN(s))
                .average().orElse(Double.NaN);
    }

    /** Waits for the reward stream to run; fails the demo with its state if it stops or takes over a minute. */
    private void awaitStream(ScoringApp scoring) {
        long start = System.nanoTime();
        try {
            if (!scoring.awaitReady(STREAM_READY_TIMEOUT)) {
                checkAborted();
                throw new DemoFailureException(String.format(Locale.ROOT,
                        "the reward stream did not reach RUNNING: Kafka Streams state %s after %.0f s (its log says "
                                + "why; limit %d s)", scoring.state(), (System.nanoTime() - start) / 1e9,
                        STREAM_READY_TIMEOUT.toSeconds()));
            }
            LOG.info("reward stream running after {} ms", (System.nanoTime() - start) / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            checkAborted();
            throw new DemoFailureException("interrupted while waiting for the reward stream to start");
        }
    }

    private void checkAborted() {
        if (aborted) {
            throw new DemoFailureException("interrupted");
        }
    }

    private String rewardSources(StartingModels models) {
        List<String> specs = new ArrayList<>();
        for (int m = 0; m < models.rmMemberDirs().size(); m++) {
            // A backslash escapes what RewardSpec would read as separators.
            String dir = models.rmMemberDirs().get(m).toAbsolutePath().toString()
                    .replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;");
            specs.add("rm:" + dir + ";name=" + StartingModels.memberName(m));
        }
        return String.join(",", specs);
    }

    private Map<String, Object> learnerSettings(Map<String, Object> settings, StartingModels models, Path work) {
        Map<String, Object> s = new HashMap<>(settings);
        s.put(LearnerConfig.POLICY_NAME, POLICY);
        s.put(LearnerConfig.INIT_CHECKPOINT, models.sftDir().toAbsolutePath().toString());
        s.put(LearnerConfig.CHECKPOINT_DIR, work.resolve("learner").toString());
        s.put(LearnerConfig.BATCH_SEQUENCES, options.batchSequences());
        s.put(LearnerConfig.PUBLISH_EVERY, 1);
        s.put(LearnerConfig.CHECKPOINTS_KEPT, 3);
        s.put(LearnerConfig.GROUP_ID, "rlhf-demo-learner");
        s.put(LearnerConfig.THREADS, options.threads());
        s.put(PpoConfig.KL_COEF, options.beta());
        s.put(PpoConfig.LEARNING_RATE, options.learningRate());
        s.put(PpoConfig.EPOCHS, 2);
        s.put(PpoConfig.MINIBATCH_SIZE, Math.min(32, options.batchSequences()));
        s.put(PpoConfig.CRITIC_WARMUP_UPDATES, 2);
        // The online trainer's reward-model versions move the mean of the rewards; subtracting the running mean keeps
        // the critic's targets centred while they do. In the runs of docs/demo.md (seventh session) the critic's
        // explained variance then passed 0.2 about 150-250 updates sooner, and the gold curve dipped less.
        s.put(PpoConfig.REWARD_NORMALIZE_MEAN, true);
        s.put(PpoConfig.WARMUP_STEPS, 4);
        s.put(PpoConfig.SEED, options.seed());
        s.put(PpoConfig.ADVANTAGE_ESTIMATOR, options.estimator());
        s.putAll(options.ppoOverrides());  // validated with the rest when the learner reads them
        return s;
    }

    private Path writeTrainerConfig(Map<String, Object> settings, StartingModels models, Path work) {
        Properties p = new Properties();
        p.setProperty("bootstrap.servers", (String) settings.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        p.setProperty("schema.registry.url", (String) settings.get("schema.registry.url"));
        p.setProperty(TopicsConfig.PREFIX, (String) settings.get(TopicsConfig.PREFIX));
        p.setProperty(TopicsConfig.PARTITIONS, settings.get(TopicsConfig.PARTITIONS).toString());
        p.setProperty(OnlineRmConfig.NAME, "rm");
        p.setProperty(OnlineRmConfig.ENSEMBLE_SIZE, Integer.toString(models.rmMemberDirs().size()));
        p.setProperty(OnlineRmConfig.METHOD, options.onlineRmMethod());
        p.setProperty(OnlineRmConfig.CHECKPOINT_DIR, work.resolve("rm").toString());
        p.setProperty(OnlineRmConfig.TRAIN_EVERY_PAIRS, Integer.toString(options.rmTrainEvery()));
        p.setProperty(OnlineRmConfig.TRAIN_MAX_WAIT_MS, "30000");
        p.setProperty(OnlineRmConfig.EPOCHS, "1");
        p.setProperty(OnlineRmConfig.BUFFER_PAIRS, "2048");
        // One replayed pair per new one: at 50 labels a second the trainer keeps up on one core shared with the loop.
        p.setProperty(OnlineRmConfig.REPLAY_RATIO, "1");
        p.setProperty(OnlineRmConfig.D_MODEL, Integer.toString(models.rmShape().dModel()));
        p.setProperty(OnlineRmConfig.LAYERS, Integer.toString(models.rmShape().layers()));
        p.setProperty(OnlineRmConfig.HEADS, Integer.toString(models.rmShape().heads()));
        p.setProperty(OnlineRmConfig.CONTEXT, Integer.toString(models.rmShape().contextLength()));
        p.setProperty(OnlineRmConfig.SEED, Long.toString(options.seed() + 7));
        // MetaRM reads the policy's newest generations as its shifted distribution; otherwise none are read.
        p.setProperty(OnlineRmConfig.META_GENERATIONS,
                RmMethod.parse(options.onlineRmMethod()).meta() ? "256" : "0");
        p.setProperty(OnlineRmConfig.THREADS, Integer.toString(options.threads()));
        Path file = work.resolve("rm-trainer.properties");
        try (Writer w = Files.newBufferedWriter(file)) {
            p.store(w, "rlhf demo: the online reward-model trainer");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
        return file;
    }

    private Path logDir() {
        Path dir = options.reportDir() != null ? options.reportDir() : options.cacheDir();
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve("rm-trainer.log"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir + " for the demo's logs: " + e.getMessage(), e);
        }
        return dir;
    }

    /**
     * The services log every update and batch at INFO, which would bury the progress line; during the demo only
     * warnings show unless {@code RLHF_LOG_LEVEL} asks for more. Two of Kafka Streams' start-up warnings are about
     * choices the demo makes on purpose, and are silenced with it: the global thread's processing handler stays off
     * (ScoringApp says why), and the state directory lies in the run's temporary working directory.
     */
    public static void quietServiceLogs() {
        if (System.getenv("RLHF_LOG_LEVEL") != null) {
            return;
        }
        setLevel("io.streamrlhf", ch.qos.logback.classic.Level.WARN);
        for (String expected : DEMO_EXPECTED_WARNINGS) {
            setLevel(expected, ch.qos.logback.classic.Level.ERROR);
        }
    }

    /** Loggers whose warnings, during the demo, only restate the demo's own deliberate settings. */
    static final List<String> DEMO_EXPECTED_WARNINGS = List.of("org.apache.kafka.streams.StreamsConfig",
            "org.apache.kafka.streams.processor.internals.StateDirectory");

    private static void setLevel(String name, ch.qos.logback.classic.Level level) {
        if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
            logger.setLevel(level);
        }
    }

    /**
     * The baseline alone (starting models from the cache, or trained): what {@code rlhf bench e2e} derives its gold
     * target from before timing the two loops.
     */
    public static double[] baselineGold(DemoOptions options, PrintWriter log) {
        ModelRuntime.init(options.threads());
        StartingModels models = StartingModels.prepare(options, log);
        List<TransformerRewardModel> rms = models.rmMemberDirs().stream()
                .map(d -> TransformerRewardModel.fromCheckpoint(CheckpointStore.load(d))).toList();
        try (TransformerPolicy sft = TransformerPolicy.fromCheckpoint(CheckpointStore.load(models.sftDir()))) {
            GoldProbe.Baseline b = new GoldProbe(GoldProbe.heldOutPrompts(options.seed(), options.evalPrompts()),
                    options.maxNewTokens(), options.seed(), rms).baseline(sft, BEST_OF);
            return new double[] {b.sft().gold(), b.bestOfNGold()};
        } finally {
            rms.forEach(TransformerRewardModel::close);
        }
    }

    private static double cpuSeconds(ProcessHandle p) {
        return p.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    static long slowestVersion(WorkerPool workers) {
        return workers.workers().stream().mapToLong(PolicyWorker::currentVersion).min().orElse(-1);
    }

    static long generations(WorkerPool workers) {
        return workers.workers().stream().mapToLong(PolicyWorker::generationsCommitted).sum();
    }

    /** Records on every dead-letter topic ({@code read_committed}). */
    static long countDlqRecords(Topics topics, String bootstrap) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (TopicSpec<?, ?> source : topics.dlqSources()) {
                String name = topics.dlq(source).name();
                c.partitionsFor(name, Duration.ofSeconds(10)).forEach(p -> partitions.add(
                        new TopicPartition(p.topic(), p.partition())));
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            long count = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                count += c.poll(Duration.ofMillis(200)).count();
            }
            return count;
        }
    }

    /** Stops what is still running, newest first; failures to stop are logged, never hide the run's own error. */
    private void stopAll() {
        for (int i = started.size() - 1; i >= 0; i--) {
            closeQuietly(started.get(i));
        }
        started.clear();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("while stopping {}: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    private static Path createWorkDir() {
        try {
            return Files.createTempDirectory("rlhf-demo-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the demo", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("could not delete {}: {}", dir, e.getMessage());
        }
    }

    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(t.getClass().getSimpleName());
        if (t.getMessage() != null) {
            sb.append(": ").append(t.getMessage());
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t && cause.getMessage() != null && !sb.toString().contains(cause.getMessage())) {
            sb.append(" (").append(cause.getMessage()).append(')');
        }
        return sb.toString();
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        return s % 60 == 0 ? (s / 60) + " min" : String.format(Locale.ROOT, "%d:%02d min", s / 60, s % 60);
    }

    /**
     * Throughput at one progress tick.
     *
     * @param seconds        loop seconds
     * @param generationsPerS generations committed per second since the previous tick
     * @param scoredPerS     scored generations per second since the previous tick
     * @param generations    generations committed so far
     * @param scored         scored so far
     */
    record ThroughputPoint(double seconds, double generationsPerS, double scoredPerS, long generations, long scored) {
    }

    /** Everything the supervisor watches, and how each one's failure reads. */
    private record Supervised(ScoringApp scoring, AtomicReference<Throwable> learnerFailure, Thread learnerThread,
                              ChildJvm trainer, WorkerPool workers, PromptPacer pacer, LoopMonitor monitor) {

        void check() {
            KafkaStreams.State state = scoring.state();
            if (state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR
                    || state == KafkaStreams.State.NOT_RUNNING) {
                throw new DemoFailureException("the reward stream (Kafka Streams) stopped in state " + state
                        + "; see the log above for the stream thread's error");
            }
            if (learnerFailure.get() != null) {
                throw new DemoFailureException("the PPO learner failed: " + describe(learnerFailure.get()),
                        learnerFailure.get());
            }
            if (!learnerThread.isAlive()) {
                throw new DemoFailureException("the PPO learner stopped unexpectedly");
            }
            if (trainer.diedUnexpectedly()) {
                throw new DemoFailureException("the " + trainer.name() + " (child process pid " + trainer.pid()
                        + ") exited with status " + trainer.exitValue() + "; last lines of its log "
                        + trainer.log() + ":" + System.lineSeparator() + trainer.logTail(15));
            }
            for (PolicyWorker w : workers.workers()) {
                Optional<Throwable> failure = w.failure();
                if (failure.isPresent()) {
                    throw new DemoFailureException("policy worker " + w.workerId() + " failed: "
                            + describe(failure.get()), failure.get());
                }
            }
            if (pacer.failure() != null) {
                throw new DemoFailureException("the prompt feeder failed: " + describe(pacer.failure()),
                        pacer.failure());
            }
            if (monitor.failure() != null) {
                throw new DemoFailureException("the demo's topic monitor failed: " + describe(monitor.failure()),
                        monitor.failure());
            }
        }
    }

    /** The live line: where the loop is, next to the baseline it has to beat. */
    static final class ProgressLine {
        private final GoldProbe.Baseline baseline;
        private final boolean lockstep;

        ProgressLine(GoldProbe.Baseline baseline, boolean lockstep) {
            this.baseline = baseline;
            this.lockstep = lockstep;
        }

        String format(LoopMonitor.Snapshot s, ThroughputPoint t, long workerVersion, long learnerVersion) {
            LoopMonitor.VersionPoint newest = s.versions().isEmpty() ? null : s.versions().get(s.versions().size() - 1);
            Map<String, String> parts = new LinkedHashMap<>();
            parts.put("t", String.format(Locale.ROOT, "%d:%02d", (long) t.seconds() / 60, (long) t.seconds() % 60));
            parts.put("policy", "v" + learnerVersion + " (workers v" + Math.max(0, workerVersion) + ")");
            parts.put("gold", fmt(s.rollingGold(), "%.2f") + String.format(Locale.ROOT, " (SFT %.2f, BoN-8 %.2f)",
                    baseline.sft().gold(), baseline.bestOfNGold()));
            parts.put("proxy", newest == null ? "-" : fmt(newest.rawProxy(), "%+.2f"));
            parts.put("KL", fmt(s.klRef(), "%.2f"));
            parts.put("gen/s", String.format(Locale.ROOT, "%.0f", t.generationsPerS()));
            parts.put("scored/s", String.format(Locale.ROOT, "%.0f", t.scoredPerS()));
            parts.put("stale", fmt(s.staleness(), "%.1f"));
            parts.put("RM", "v" + Math.max(1, s.newestRm()));
            parts.put("prefs", Long.toString(s.preferences()));
            StringBuilder sb = new StringBuilder(lockstep ? "[lockstep] " : "");
            parts.forEach((k, v) -> sb.append(k.equals("t") ? "" : k + " ").append(v).append("  "));
            return sb.toString().trim();
        }

        private static String fmt(double v, String pattern) {
            return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, pattern, v);
        }
    }
}
