package io.streamrlhf.loop.demo;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.PrivateFiles;
import io.streamrlhf.evaluator.live.GoldProbe;
import io.streamrlhf.evaluator.live.LoopMonitor;
import io.streamrlhf.learner.app.MetricsReporter;
import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.loop.component.LearnerComponent;
import io.streamrlhf.loop.component.PromptPacer;
import io.streamrlhf.loop.component.RewardStreamComponent;
import io.streamrlhf.loop.component.SimulatedFeedback;
import io.streamrlhf.loop.component.WorkerPoolComponent;
import io.streamrlhf.loop.process.ChildJvmComponent;
import io.streamrlhf.loop.process.ThreadNiceness;
import io.streamrlhf.loop.supervision.LoopFailureException;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.loop.supervision.Supervisor;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.ConsumerGroupLag;
import io.streamrlhf.ops.HealthChecks;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.schemas.topics.CatalogTopics;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.SortedMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One demo run, start to finish: starting models (cached), the baseline measurements, the embedded cluster and
 * topics, then every component of the loop together for the time budget, supervised; then an orderly stop, the final
 * measurement, the summary and the report.
 *
 * <p>Components and where they run: the policy workers, the reward stream (Kafka Streams), the PPO learner, the
 * simulated raters and the prompt feeder run in this JVM on their own threads; the online reward-model trainer runs
 * as a child JVM (DJL allows one training {@code GradientCollector} per JVM, and the learner trains here). The broker
 * runs in this JVM and the schema registry is the embedded cluster's child process. A {@link Supervisor} starts them,
 * checks them every progress tick, and stops them in reverse order.
 *
 * <p>Any component that fails ends the run with a {@link LoopFailureException} naming it; everything started is
 * stopped in reverse order whatever happens, and {@link #abort()} (Ctrl-C) asks for the same orderly stop.
 */
public final class DemoRunner {

    private static final Logger LOG = LoggerFactory.getLogger(DemoRunner.class);
    /** Best-of-n of the baseline. */
    static final int BEST_OF = 8;
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
    /** Learner batches of scored generations whose mean gold must reach a stop target (4 x 64: std error ~0.05). */
    static final int TARGET_WINDOW_BATCHES = 4;
    /** How long the reward stream may take to start (join its group, restore its stores) before the demo fails. */
    static final Duration STREAM_READY_TIMEOUT = Duration.ofSeconds(60);
    /** Nice value added to the reward-model trainer's process where it cannot run under SCHED_IDLE. */
    static final int TRAINER_NICENESS = 10;
    /** How long the learner may take to finish its update once the loop stops. */
    private static final Duration LEARNER_FINISH = Duration.ofSeconds(120);
    /** How long the reward stream may take, once the workers stopped, to score what they committed. */
    private static final Duration SCORING_DRAIN = Duration.ofSeconds(60);
    /** Killing the trainer mid-round is safe (its checkpoints are atomic) and the demo is over: no long wait. */
    private static final Duration TRAINER_STOP_GRACE = Duration.ofSeconds(10);

    private final DemoOptions options;
    private final PrintWriter log;
    private final boolean interactive;
    private final String serviceMain;
    private final Supervisor supervisor = new Supervisor();
    private volatile boolean aborted;
    private volatile Thread runningThread;
    private final CountDownLatch finished = new CountDownLatch(1);
    /** Where the components' meters and checks go when the demo serves an endpoint; none by default. */
    private volatile ServiceMeters meters;
    private volatile HealthChecks health;
    private boolean secure;

    /**
     * @param options     the run's settings
     * @param log         where people read progress (stderr)
     * @param interactive redraw one progress line in place (a terminal) rather than print a line every few seconds
     * @param serviceMain the main class whose {@code train-rm --online} command runs the reward-model trainer in its
     *                    own JVM (the {@code rlhf} command line's)
     */
    public DemoRunner(DemoOptions options, PrintWriter log, boolean interactive, String serviceMain) {
        this.options = options;
        this.log = log;
        this.interactive = interactive;
        this.serviceMain = serviceMain;
    }

    /**
     * Registers every component's meters (tagged {@code component=worker}, {@code score}, {@code learn},
     * {@code cluster}) in {@code meters} and their checks in {@code health}, as they start: one endpoint serves the
     * whole loop. Call before {@link #run()}.
     */
    public DemoRunner observe(ServiceMeters meters, HealthChecks health) {
        this.meters = meters;
        this.health = health;
        return this;
    }

    /**
     * Runs the cluster secure (TLS, SASL/SCRAM-SHA-512, least-privilege ACLs) with each component as its own
     * principal ({@link DemoPrincipals}), or plaintext (the default). Call before {@link #run()}.
     */
    public DemoRunner secure(boolean secure) {
        this.secure = secure;
        return this;
    }

    private MeterRegistry meters(String component) {
        ServiceMeters m = meters;
        return m == null ? new SimpleMeterRegistry() : m.component(component);
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
     * @throws LoopFailureException naming the component that failed
     */
    public DemoResult run() {
        runningThread = Thread.currentThread();
        long t0 = System.nanoTime();
        Path work = createWorkDir();
        try {
            return runIn(work, t0);
        } finally {
            supervisor.close();
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
        return finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private DemoResult runIn(Path work, long t0) {
        ModelRuntime.init(options.threads());
        StartingModels models = StartingModels.prepare(options, log);
        checkAborted();
        GoldProbe probe = goldProbe(models);
        GoldProbe.Baseline baseline = measureBaseline(probe, models);
        checkAborted();
        DemoProfile profile = DemoProfile.demo();
        DemoPrincipals principals = secure ? DemoPrincipals.secure(profile) : DemoPrincipals.plaintext();
        // Its keys are deleted once the cluster, started after it, has stopped.
        supervisor.start(SupervisedComponent.resource("the cluster's keys", principals));
        EmbeddedCluster cluster = startCluster(principals);
        CatalogTopics catalog = createTopics(cluster, profile, principals, log);
        checkAborted();
        // The settings carry no credentials: each part gets its own principal's below.
        DemoSettings settings = new DemoSettings(options, profile,
                DemoPrincipals.withoutCredentials(catalog.settings()), models.sftDir(), models.rmMemberDirs(),
                models.rmShape(), work);
        Loop loop = startLoop(models, catalog, settings, principals);
        LoopRun run = superviseLoop(loop, baseline);
        drain(loop);
        return measureOutcome(loop, run, probe, baseline, models, cluster, settings, t0);
    }

    /** The gold yardstick: held-out prompts, scored by the hidden gold reward and by the initial ensemble. */
    private GoldProbe goldProbe(StartingModels models) {
        List<TransformerRewardModel> rms = models.rmMemberDirs().stream()
                .map(d -> TransformerRewardModel.fromCheckpoint(CheckpointStore.load(d))).toList();
        supervisor.start(SupervisedComponent.resource("the initial reward models",
                () -> rms.forEach(TransformerRewardModel::close)));
        return new GoldProbe(GoldProbe.heldOutPrompts(options.seed(), options.evalPrompts()), options.maxNewTokens(),
                options.seed(), rms);
    }

    /** Baseline: the SFT policy, and best-of-8 reranking of its samples by the initial ensemble. */
    private GoldProbe.Baseline measureBaseline(GoldProbe probe, StartingModels models) {
        GoldProbe.Baseline baseline;
        try (TransformerPolicy sft = TransformerPolicy.fromCheckpoint(CheckpointStore.load(models.sftDir()))) {
            baseline = probe.baseline(sft, BEST_OF);
        }
        log.printf(Locale.ROOT, "Baseline on %d held-out prompts: SFT gold %.3f; best-of-%d by the reward-model "
                + "ensemble gold %.3f%n", options.evalPrompts(), baseline.sft().gold(), BEST_OF,
                baseline.bestOfNGold());
        log.flush();
        return baseline;
    }

    private EmbeddedCluster startCluster(DemoPrincipals principals) {
        log.println("Starting the embedded Kafka broker and schema registry" + (principals.secure()
                ? " (secure: TLS, SASL/SCRAM-SHA-512, least-privilege ACLs)..." : "..."));
        log.flush();
        EmbeddedCluster cluster = EmbeddedCluster.builder().security(principals.security().orElse(null)).start();
        supervisor.start(SupervisedComponent.resource("the embedded cluster", cluster));
        log.printf("bootstrap=%s registry=%s%n", cluster.bootstrapServers(), cluster.registryUrl());
        return cluster;
    }

    /**
     * The catalog's topics, partitioned as the profile says, on the one broker; every contract registered; on a
     * secure cluster created as admin, with the components' ACLs granted. Its settings hold admin's credentials then.
     */
    static CatalogTopics createTopics(EmbeddedCluster cluster, DemoProfile profile, DemoPrincipals principals,
                                      PrintWriter log) {
        CatalogTopics.Builder builder = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                .partitions(profile.getInt(TopicsConfig.PARTITIONS)).replicationFactor((short) 1)
                .registerSchemas(true);
        principals.admin(Map.of()).forEach(builder::setting);
        CatalogTopics catalog = builder.create();
        if (principals.secure()) {
            int acls = principals.grant(catalog.settings(), catalog.topics());
            log.printf("%d ACLs granted; %s%n", acls, principals.describe());
            log.flush();
        }
        return catalog;
    }

    /**
     * Every component of the loop, started in order: the reward stream, the learner, the reward-model trainer, the
     * workers, the raters; then, once the stream runs, the monitor and the prompts.
     */
    private Loop startLoop(StartingModels models, CatalogTopics catalog, DemoSettings settings,
                           DemoPrincipals principals) {
        Topics topics = catalog.topics();
        Map<String, Object> cluster = settings.cluster();
        models.seedOnlineTrainer(settings.trainerCheckpoints());
        RewardStreamComponent stream = supervisor.start(new RewardStreamComponent(
                principals.rewardStream(settings.rewardStream()), meters("score")));
        // The PPO learner trains here; the reward-model trainer is the child process.
        LearnerComponent learner = supervisor.start(new LearnerComponent(principals.learner(settings.learner()),
                topics, meters("learn")));
        ChildJvmComponent trainer = supervisor.start(trainerProcess(settings, principals));
        WorkerPoolComponent workers = supervisor.start(new WorkerPoolComponent(principals.worker(settings.worker()),
                1, Optional.of(new WorkerPool.Bootstrap(CheckpointStore.load(models.sftDir()), 0)),
                meters("worker")));
        HealthChecks checks = health;
        if (checks != null) {
            checks.include("score", stream.health(new HealthChecks()))
                    .include("learn", learner.health(new HealthChecks()))
                    .include("worker", workers.health(new HealthChecks()));
            Admin admin = Admin.create(adminClient(principals.admin(cluster)));
            supervisor.start(SupervisedComponent.resource("the consumer-lag reader", admin));
            supervisor.start(SupervisedComponent.resource("the consumer-lag meter",
                    new ConsumerGroupLag(admin, Duration.ofSeconds(10)).bindTo(meters("cluster"),
                            Duration.ofSeconds(5))));
        }
        // Simulated raters labelling pairs of fresh generations: feedback -> (reward stream join) -> preferences.
        SimulatedFeedback raters = supervisor.start(new SimulatedFeedback(topics, principals.raters(cluster),
                options.groupSize(), SyntheticWorld.standard().gold(), new SimulatedRater(StartingModels.TAU,
                StartingModels.FLIP, options.seed() + 5), "demo", options.seed() + 6, options.raterRate()));

        // The loop starts with the first prompts, once the reward stream can score them. Kafka Streams takes a couple
        // of seconds to join its group and restore its stores; prompts sent before then would wait in the topic, and
        // every mode's clock (and bench e2e's time to the target) would include that start-up rather than the loop.
        awaitStream(stream);
        LoopMonitor monitor = new LoopMonitor(topics, principals.monitor(cluster), options.batchSequences(),
                TARGET_WINDOW_BATCHES * options.batchSequences(), options.stopAtGold(), MetricsReporter.COMPONENT);
        supervisor.start(SupervisedComponent.of("the demo's topic monitor", monitor::start, monitor::failure,
                monitor));
        PromptPacer pacer = supervisor.start(new PromptPacer(new SyntheticPromptFeed(options.seed(),
                options.groupSize())::next, new PromptSender(topics, principals.prompts(cluster)),
                options.promptsPerBatch(), options.backlogBatches(), options.lockstep(), learner::updates,
                workers::slowestVersion));
        log.printf(Locale.ROOT,
                "Loop running (%s, β %.3g, %d-sequence batches) for up to %s; Ctrl-C stops it cleanly.%n",
                options.lockstep() ? "LOCKSTEP: generation waits for every update" : "streaming", options.beta(),
                options.batchSequences(), human(options.loopBudget()));
        log.flush();
        return new Loop(catalog, principals.admin(cluster), learner, trainer, workers, raters, monitor, pacer);
    }

    /**
     * The reward-model trainer, a child JVM. It learns in the background, on the CPU the policy loop leaves, instead of
     * slowing the learner on the critical path (on two cores it asks for a third of one): under SCHED_IDLE where Linux
     * allows it, else at nice 10. Idle time is plentiful: in lockstep most of a core, in streaming the gaps between
     * the stages. Its log outlives the run: beside the report, or in the cache directory.
     */
    private ChildJvmComponent trainerProcess(DemoSettings settings, DemoPrincipals principals) {
        Path config = writeProperties(principals.trainer(settings.trainer()),
                settings.work().resolve("rm-trainer.properties"), "rlhf demo: the online reward-model trainer");
        return new ChildJvmComponent("reward-model trainer", new ChildJvmComponent.Launch(1024, TRAINER_NICENESS,
                true, logDir().resolve("rm-trainer.log"), serviceMain, List.of("train-rm", "--online", "--config",
                config.toString(), "--no-progress", "--threads", Integer.toString(options.threads()))),
                TRAINER_STOP_GRACE);
    }

    /**
     * Runs the loop for its budget (or to the gold target, or until aborted): every tick checks every component,
     * renices new threads, samples throughput and draws the progress line.
     */
    private LoopRun superviseLoop(Loop loop, GoldProbe.Baseline baseline) {
        // Streaming: the stages with slack yield to the learner's thread when they share a core (--stage-nice).
        // Lockstep's stages take turns with the learner instead of overlapping it, so there they keep nice 0.
        ThreadNiceness stages = new ThreadNiceness(options.lockstep() ? 0 : options.stageNice(),
                List.of("policy-sampler-", "reward-scorer-"));
        stages.apply();
        List<ThroughputPoint> throughput = new ArrayList<>();
        ProgressLine progress = new ProgressLine(baseline, options.lockstep());
        long loopStart = System.nanoTime();
        double jvmCpuAtStart = cpuSeconds(ProcessHandle.current());
        double trainerCpuAtStart = loop.trainer().cpuSeconds();
        long deadline = loopStart + options.loopBudget().toNanos();
        long lastGenerations = 0;
        long lastScored = 0;
        double lastT = 0;
        while (System.nanoTime() < deadline && !aborted) {
            try {
                Thread.sleep(PROGRESS_EVERY.toMillis());
            } catch (InterruptedException e) {
                break;  // abort()
            }
            supervisor.check();
            stages.apply();  // threads that started since
            loop.trainer().cpuSeconds();  // remembered: a process's CPU time cannot be read after it has gone
            LoopMonitor.Snapshot snap = loop.monitor().snapshot();
            double t = (System.nanoTime() - loopStart) / 1e9;
            long generations = loop.workers().generations();
            ThroughputPoint point = new ThroughputPoint(t, (generations - lastGenerations) / (t - lastT),
                    (snap.scored() - lastScored) / (t - lastT), generations, snap.scored());
            throughput.add(point);
            lastGenerations = generations;
            lastScored = snap.scored();
            lastT = t;
            if (options.showProgress()) {
                drawProgress(progress.format(snap, point, loop.workers().slowestVersion(), loop.learner().version()),
                        throughput.size());
            }
            if (options.stopAtGold() != null && !Double.isNaN(snap.targetReachedAt())) {
                break;
            }
        }
        if (interactive && options.showProgress()) {
            log.println();
        }
        LoopRun run = new LoopRun((System.nanoTime() - loopStart) / 1e9,
                cpuSeconds(ProcessHandle.current()) - jvmCpuAtStart, loop.trainer().cpuSeconds() - trainerCpuAtStart,
                throughput);
        log.println(aborted ? "Stopping (interrupted)..." : "Stopping the loop...");
        log.flush();
        supervisor.check();
        return run;
    }

    private void drawProgress(String line, int ticks) {
        if (interactive) {
            log.print("\r" + line + "\u001b[K");
        } else if (ticks % 5 == 1) {
            log.println(line);
        }
        log.flush();
    }

    /**
     * Orderly stop of the producers of data, so that what they left can be read. The reward-model trainer is told
     * first: it finishes its round in the background while the rest stops (its models no longer matter to the result).
     */
    private void drain(Loop loop) {
        loop.trainer().cpuSeconds();
        loop.trainer().requestStop();
        supervisor.stop(loop.pacer());
        supervisor.stop(loop.raters());
        supervisor.stop(loop.workers());
        loop.learner().finish(LEARNER_FINISH);
        awaitScored(loop, SCORING_DRAIN);
    }

    /**
     * Waits until the monitor has read a scored record for every generation the workers committed: the reward stream
     * goes on after the workers stop, and on a busy machine it is some batches behind them, which the summary would
     * otherwise count as not scored.
     */
    private void awaitScored(Loop loop, Duration timeout) {
        long committed = loop.workers().generations();
        long deadline = System.nanoTime() + timeout.toNanos();
        long scored;
        while ((scored = loop.monitor().snapshot().scored()) < committed && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (scored < committed) {
            LOG.warn("{} of {} committed generations scored {} s after the workers stopped", scored, committed,
                    timeout.toSeconds());
        }
    }

    /** The final policy, the learner's newest checkpoint, measured like the SFT policy; the result; the report. */
    private DemoResult measureOutcome(Loop loop, LoopRun run, GoldProbe probe, GoldProbe.Baseline baseline,
                                      StartingModels models, EmbeddedCluster cluster, DemoSettings settings, long t0) {
        long dlq = countDlqRecords(loop.catalog().topics(), loop.admin());
        LoopMonitor.Snapshot snap = loop.monitor().snapshot();
        SortedMap<Long, Map<String, Double>> learnerMetrics = loop.monitor().learnerMetrics();
        Optional<LearnerCheckpoint> newest = new LearnerCheckpointStore(settings.learnerCheckpoints()).loadNewest();
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
        double cpu = cpuSeconds(ProcessHandle.current()) + loop.trainer().cpuSeconds()
                + cluster.registry().process().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0);
        DemoResult result = new DemoResult(options.lockstep(), options.beta(), options.seed(),
                new DemoResult.Baselines(baseline.sft().gold(), baseline.bestOfNGold(), baseline.sft().proxy(),
                        models.rmHeldOutAccuracy(), models.sftCached()),
                new DemoResult.Outcome(last.gold(), last.proxy(), kl, finalVersion, snap.versionsGenerating(),
                        Math.max(0, snap.newestRm()), loop.workers().generations(), snap.scored(), snap.preferences(),
                        dlq, snap.targetReachedAt(), snap.versionsPublishedAtTarget()),
                new DemoResult.Cost(wall, run.seconds(), cpu, models.sftSeconds(), models.rmSeconds(),
                        new DemoResult.LoopCost(run.jvmCpuSeconds(), run.trainerCpuSeconds(),
                                meanUpdateSeconds(snap.updates()), meanReferenceGiven(snap.updates()),
                                meanMetric(learnerMetrics, "time/wait_s"), meanMetric(learnerMetrics, "time/commit_s"),
                                snap.publishedAt().getOrDefault(1L, Double.NaN))));
        if (options.reportDir() != null) {
            Path index = DemoReport.write(options.reportDir(), options, result, snap, run.throughput(), learnerMetrics);
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
    static double klToReference(Optional<Map<String, Double>> checkpointMetrics,
                                List<LoopMonitor.UpdatePoint> updates) {
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
    private void awaitStream(RewardStreamComponent stream) {
        try {
            stream.awaitRunning(STREAM_READY_TIMEOUT);
        } catch (LoopFailureException e) {
            checkAborted();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            checkAborted();
            throw new LoopFailureException("interrupted while waiting for the reward stream to start");
        }
    }

    private void checkAborted() {
        if (aborted) {
            throw new LoopFailureException("interrupted");
        }
    }

    /** Writes {@code file} readable by its owner only: on a secure cluster it holds a password. */
    private static Path writeProperties(Map<String, String> values, Path file, String comment) {
        Properties p = new Properties();
        p.putAll(values);
        PrivateFiles.writeProperties(p, file, comment);
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

    /**
     * Records on every dead-letter topic ({@code read_committed}), read with {@code settings}' cluster and
     * credentials (admin's on a secure cluster: no component reads every dead-letter topic).
     */
    static long countDlqRecords(Topics topics, Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>();
        settings.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
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

    static String human(Duration d) {
        long s = d.toSeconds();
        return s % 60 == 0 ? (s / 60) + " min" : String.format(Locale.ROOT, "%d:%02d min", s / 60, s % 60);
    }

    /** The running loop's parts the demo reads from while it runs and when it stops. */
    private record Loop(CatalogTopics catalog, Map<String, Object> admin, LearnerComponent learner,
                        ChildJvmComponent trainer, WorkerPoolComponent workers, SimulatedFeedback raters,
                        LoopMonitor monitor, PromptPacer pacer) {
    }

    /** The Admin client's share of {@code settings}. */
    static Map<String, Object> adminClient(Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>();
        settings.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        return props;
    }

    /**
     * What the supervised loop measured.
     *
     * @param seconds           the loop's wall time
     * @param jvmCpuSeconds     CPU seconds of this JVM during the loop
     * @param trainerCpuSeconds CPU seconds of the reward-model trainer during the loop
     * @param throughput        one point per progress tick
     */
    private record LoopRun(double seconds, double jvmCpuSeconds, double trainerCpuSeconds,
                           List<ThroughputPoint> throughput) {
    }
}
