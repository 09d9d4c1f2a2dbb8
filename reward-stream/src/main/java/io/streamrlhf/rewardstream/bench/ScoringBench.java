package io.streamrlhf.rewardstream.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.bench.BenchCluster;
import io.streamrlhf.schemas.bench.ScratchDirectory;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The reward-stream benchmark: the stream's throughput against the same ensemble's batched throughput in-process,
 * same batch size, same run.
 *
 * <p>Raw: the ensemble scores the generations in batches of B in this thread, no Kafka, after untimed warm-up
 * batches; measured before and after the stream run and averaged. Stream: the same generations, already on
 * {@code generations} (written in one transaction), go through a running {@link ScoringApp} (exactly-once v2) on the
 * cluster it is handed, which runs only for this part; the rate counts records committed to {@code scored} after
 * the first {@code warmup}, so start-up and JIT warm-up are not counted, and the run fails unless every input came
 * out exactly once. Both use the same ensemble, batch size and PyTorch threads; {@code stream_mean_batch} shows the
 * batch size the stream actually scored, and {@code *_jit_ms_per_s} the JIT compilers' time per second in each
 * timed part (a warm-up too short for the Kafka code shows up there, not as a slow stream).
 */
public final class ScoringBench {

    /**
     * What to run.
     *
     * @param records          generations to score
     * @param warmup           records not timed while the code paths warm up, in the stream and in-process alike
     * @param batch            the micro-batch size B
     * @param sources          the ensemble as reward specs; null for a built-in transformer reward model (d=128,
     *                         2 layers, context 64, random weights) and {@code rule:length}
     * @param maxWaitMs        the stream's batch time limit T
     * @param commitIntervalMs the stream's {@code commit.interval.ms}
     * @param torchThreads     PyTorch intra-op threads for both measurements (0: PyTorch's default), unless
     *                         {@code -Dai.djl.pytorch.num_threads} is given
     * @param pipeline         score on a scorer thread while the stream thread reads the next batch
     * @param serverDelayMs    with {@code http:local} among the sources: how long the local reward server takes to
     *                         answer each request
     */
    public record Parameters(int records, int warmup, int batch, String sources, long maxWaitMs,
                             long commitIntervalMs, int torchThreads, boolean pipeline, long serverDelayMs) {

        /** With a local reward server that answers at once. */
        public Parameters(int records, int warmup, int batch, String sources, long maxWaitMs, long commitIntervalMs,
                          int torchThreads, boolean pipeline) {
            this(records, warmup, batch, sources, maxWaitMs, commitIntervalMs, torchThreads, pipeline, 0);
        }

        /** @throws IllegalArgumentException naming the first parameter out of range */
        public Parameters {
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be >= 1, got " + batch);
            }
            // The in-process warm-up scores at least one whole batch of the input.
            if (records < batch) {
                throw new IllegalArgumentException("records must be >= batch (" + batch + "), got " + records);
            }
            if (warmup < 0) {
                throw new IllegalArgumentException("warmup must be >= 0, got " + warmup);
            }
            if (serverDelayMs < 0) {
                throw new IllegalArgumentException("server-delay-ms must be >= 0, got " + serverDelayMs);
            }
            if (torchThreads < 0) {
                throw new IllegalArgumentException("torch-threads must be >= 0, got " + torchThreads);
            }
        }
    }

    /**
     * The in-process rate, this process's CPU time per record and the JIT's compile time per second while measured.
     */
    public record Raw(double recordsPerSecond, double cpuMsPerRecord, double jitMsPerSecond) {
    }

    /**
     * The stream's rate, the mean size of the batches it scored (to check it scored batches of B), the process's CPU
     * time per record and the JIT's compile time per second in the timed part.
     */
    public record StreamRun(double recordsPerSecond, double meanBatch, double cpuMsPerRecord, double jitMsPerSecond) {
    }

    /**
     * Figures of one run.
     *
     * @param parameters   what ran
     * @param sources      the ensemble's source names
     * @param torchThreads the PyTorch threads both measurements ran on, as configured ({@code default} when unset)
     * @param rawBefore    in-process, before the stream run
     * @param stream       through the stream
     * @param rawAfter     in-process, after the stream run
     * @param specs        the reward specs both measurements scored with ({@code http:local} resolved to its URL)
     * @param localServer  whether the run started a {@link LocalRewardServer} for {@code http:local}
     */
    public record Result(Parameters parameters, List<String> sources, String torchThreads, Raw rawBefore,
                         StreamRun stream, Raw rawAfter, String specs, boolean localServer) {

        public Result {
            sources = List.copyOf(sources);
        }

        /** The in-process rate, the mean of the runs either side of the stream's. */
        public double rawRecordsPerSecond() {
            return (rawBefore.recordsPerSecond() + rawAfter.recordsPerSecond()) / 2;
        }

        /** Stream over in-process. */
        public double ratio() {
            return stream.recordsPerSecond() / rawRecordsPerSecond();
        }

        /**
         * The JSON line: {@code {"stream_records_per_s":..., "raw_records_per_s":..., "ratio":..., "batch":...,
         * "sources":[...], "stream_mean_batch":..., "torch_threads":..., "pipeline":..., "commit_interval_ms":...,
         * "raw_cpu_ms_per_record":..., "stream_cpu_ms_per_record":..., "raw_jit_ms_per_s":...,
         * "stream_jit_ms_per_s":..., "reward":"SPECS", "local_reward_server":..., "server_delay_ms":...,
         * "goal_ratio":0.9, "goal_met":...}}.
         */
        public String toJson() {
            double rawCpu = (rawBefore.cpuMsPerRecord() + rawAfter.cpuMsPerRecord()) / 2;
            double rawJit = (rawBefore.jitMsPerSecond() + rawAfter.jitMsPerSecond()) / 2;
            return String.format(Locale.ROOT, "{\"stream_records_per_s\":%.1f, \"raw_records_per_s\":%.1f, "
                            + "\"ratio\":%.3f, \"batch\":%d, \"sources\":[%s], \"stream_mean_batch\":%.2f, "
                            + "\"torch_threads\":\"%s\", \"pipeline\":%s, \"commit_interval_ms\":%d, "
                            + "\"raw_cpu_ms_per_record\":%.3f, \"stream_cpu_ms_per_record\":%.3f, "
                            + "\"raw_jit_ms_per_s\":%.0f, \"stream_jit_ms_per_s\":%.0f, \"reward\":\"%s\", "
                            + "\"local_reward_server\":%s, \"server_delay_ms\":%d, \"goal_ratio\":%.1f, "
                            + "\"goal_met\":%s}",
                    stream.recordsPerSecond(), rawRecordsPerSecond(), ratio(), parameters.batch(),
                    sources.stream().map(n -> "\"" + n.replace("\"", "\\\"") + "\"").collect(Collectors.joining(",")),
                    stream.meanBatch(), torchThreads, parameters.pipeline(), parameters.commitIntervalMs(), rawCpu,
                    stream.cpuMsPerRecord(), rawJit, stream.jitMsPerSecond(),
                    specs.replace("\\", "\\\\").replace("\"", "\\\""), localServer,
                    localServer ? parameters.serverDelayMs() : 0, GOAL_RATIO,
                    ratio() >= GOAL_RATIO);
        }
    }

    /** The stream's throughput should be at least this share of the in-process one (issue 27's benchmark). */
    public static final double GOAL_RATIO = 0.9;

    private ScoringBench() {
    }

    /**
     * Runs the benchmark.
     *
     * @param clusters starts the cluster for the stream part; closed when that part ends
     * @param progress receives one line per phase, for people
     * @throws IllegalStateException when the ensemble cannot score the input, or the stream does not start, does not
     *                               score every record within 10 minutes, or not exactly once
     */
    public static Result run(Parameters parameters, Supplier<? extends BenchCluster> clusters,
                             Consumer<String> progress) throws Exception {
        // Set before any model loads: PyTorch reads it once, when the engine starts.
        if (parameters.torchThreads() > 0 && System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(parameters.torchThreads()));
            System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(parameters.torchThreads()));
        }
        String threads = System.getProperty("ai.djl.pytorch.num_threads", "default");
        try (ScratchDirectory work = ScratchDirectory.create("rlhf-bench-scoring")) {
            String given = parameters.sources() != null ? parameters.sources() : defaultSpecs(work.path());
            // One local server for the whole run: the in-process and the stream measurements call the same one.
            try (LocalRewardServer local = LocalRewardServer.named(given)
                    ? LocalRewardServer.start(8, parameters.serverDelayMs()) : null) {
                String specs = local == null ? given : LocalRewardServer.resolve(given, local.url());
                if (local != null) {
                    progress.accept("local reward server (scores by length, answers after "
                            + parameters.serverDelayMs() + " ms) at " + local.url());
                }
                return run(parameters, specs, local != null, threads, work.path(), clusters, progress);
            }
        }
    }

    private static Result run(Parameters parameters, String specs, boolean localServer, String threads, Path work,
                              Supplier<? extends BenchCluster> clusters, Consumer<String> progress) throws Exception {
        List<RewardSource> built = RewardSources.createAll(RewardSpec.parseList(specs));
        RewardEnsemble ensemble = RewardEnsemble.builder().addAll(built).build();
        List<String> names = built.stream().map(RewardSource::name).toList();
        List<Generation> generations = generations(parameters.records());
        List<ScoringInput> inputs = generations.stream().map(ScoringInput::of).toList();

        progress.accept(String.format(Locale.ROOT, "scoring %d generations with %s, batch %d, torch threads %s, "
                + "pipeline %s", parameters.records(), names, parameters.batch(), threads,
                parameters.pipeline() ? "on" : "off"));
        // Raw throughput is measured before and after the stream and averaged: on a shared machine the load
        // drifts, and bracketing the stream run keeps the two figures comparable.
        Raw rawBefore = rawThroughput(parameters, ensemble, inputs);
        progress.accept(String.format(Locale.ROOT, "in-process batched: %.0f records/s, %.3f CPU ms per record, "
                + "JIT %.0f ms/s", rawBefore.recordsPerSecond(), rawBefore.cpuMsPerRecord(),
                rawBefore.jitMsPerSecond()));
        StreamRun run;
        try (BenchCluster cluster = clusters.get()) {
            run = streamThroughput(parameters, cluster.catalog(), cluster.settingsFor("scorer"), ensemble, generations,
                    work, progress);
        }
        progress.accept(String.format(Locale.ROOT, "through the stream: %.0f records/s, %.3f CPU ms per record "
                + "(whole process), JIT %.0f ms/s", run.recordsPerSecond(), run.cpuMsPerRecord(),
                run.jitMsPerSecond()));
        // The app closed its ensemble; the same specs give the same models again.
        Raw rawAfter;
        try (RewardEnsemble again = RewardEnsemble.builder()
                .addAll(RewardSources.createAll(RewardSpec.parseList(specs))).build()) {
            rawAfter = rawThroughput(parameters, again, inputs);
        }
        progress.accept(String.format(Locale.ROOT, "in-process batched again: %.0f records/s, %.3f CPU ms per record, "
                + "JIT %.0f ms/s", rawAfter.recordsPerSecond(), rawAfter.cpuMsPerRecord(),
                rawAfter.jitMsPerSecond()));
        return new Result(parameters, names, threads, rawBefore, run, rawAfter, specs, localServer);
    }

    private static String defaultSpecs(Path work) {
        try (TransformerRewardModel rm = TransformerRewardModel.create(new TransformerConfig(64, 64, 128, 2, 4), 7)) {
            Path dir = CheckpointStore.save(rm.toCheckpoint(Map.of("name", "rm-bench", "version", "1"), null),
                    work.resolve("rm-bench"));
            return "rm:" + dir + ",rule:length";
        }
    }

    /** CPU time of the whole process so far (every thread, GC and JIT included), in ns. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * Time the JIT compilers have spent compiling so far, in ms (0 where the JVM does not say): compiling Kafka's code
     * takes much of a core for the stream's first seconds, and this shows whether a timed part was still paying it.
     */
    private static long jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private static Raw rawThroughput(Parameters parameters, RewardEnsemble ensemble, List<ScoringInput> inputs) {
        int batch = parameters.batch();
        NormalizationState warm = new NormalizationState();
        int warmBatches = Math.max(1, Math.min(parameters.warmup(), inputs.size() / 2) / batch);
        for (int i = 0; i < warmBatches; i++) {
            ensemble.score(inputs.subList(i * batch, (i + 1) * batch), warm);
        }
        NormalizationState state = new NormalizationState();
        long jitStart = jitMillis();
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        for (int from = 0; from < inputs.size(); from += batch) {
            for (var outcome : ensemble.score(inputs.subList(from, Math.min(inputs.size(), from + batch)), state)) {
                if (!outcome.scored()) {
                    throw new IllegalStateException("the ensemble could not score the benchmark's input: "
                            + outcome.error().getMessage(), outcome.error());
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Raw(inputs.size() / seconds, (processCpuNanos() - cpuStart) / 1e6 / inputs.size(),
                (jitMillis() - jitStart) / seconds);
    }

    private static StreamRun streamThroughput(Parameters parameters, CatalogTopics catalog,
                                              Map<String, Object> scorerSettings, RewardEnsemble ensemble,
                                              List<Generation> generations, Path work, Consumer<String> progress)
            throws Exception {
        Map<String, Object> settings = new java.util.HashMap<>(scorerSettings);
        // Under the scorer's application id prefix, which a secure cluster's ACLs grant to the scorer.
        settings.put(RewardStreamConfig.APPLICATION_ID, "rlhf-reward-stream-bench-" + UUID.randomUUID());
        settings.put(RewardStreamConfig.BATCH_SIZE, parameters.batch());
        settings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, parameters.maxWaitMs());
        settings.put("commit.interval.ms", parameters.commitIntervalMs());
        settings.put(RewardStreamConfig.PIPELINE, parameters.pipeline());
        settings.put(RewardStreamConfig.STATE_DIR, work.resolve("state").toString());
        Topics topics = catalog.topics();
        Map<String, Object> bench = catalog.settings();
        produce(bench, topics.generations(), generations);
        progress.accept(String.format(Locale.ROOT, "produced %d generations to %s", generations.size(),
                topics.generations().name()));

        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ScoringApp app = ScoringApp.create(settings, ensemble, meters);
             KafkaConsumer<String, ScoredGeneration> reader = reader(bench, topics)) {
            app.start();
            Map<String, Long> cpuBefore = cpuByThreadGroup();
            if (!app.awaitReady(Duration.ofMinutes(2))) {
                throw new IllegalStateException("the reward stream did not start (state " + app.state() + ")");
            }
            int seen = 0;
            Set<String> ids = new HashSet<>();
            int firstChunk = -1;
            long firstAt = 0;
            long lastAt = 0;
            long cpuAtFirst = 0;
            long cpuAtLast = 0;
            long jitAtFirst = 0;
            long jitAtLast = 0;
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            while (seen < generations.size() && System.nanoTime() < deadline) {
                ConsumerRecords<String, ScoredGeneration> polled = reader.poll(Duration.ofMillis(100));
                if (polled.isEmpty()) {
                    continue;
                }
                seen += polled.count();
                polled.forEach(r -> ids.add(r.value().getGeneration().getGenerationId()));
                lastAt = System.nanoTime();
                cpuAtLast = processCpuNanos();
                jitAtLast = jitMillis();
                if (firstChunk < 0 && seen >= Math.min(parameters.warmup(), generations.size() / 2)) {
                    firstChunk = seen;
                    firstAt = lastAt;
                    cpuAtFirst = cpuAtLast;
                    jitAtFirst = jitAtLast;
                }
            }
            if (seen < generations.size()) {
                throw new IllegalStateException("only " + seen + " of " + generations.size()
                        + " records were scored within 10 minutes");
            }
            if (ids.size() != generations.size() || seen != generations.size()) {
                throw new IllegalStateException("the stream wrote " + seen + " records for " + ids.size()
                        + " distinct generations of " + generations.size() + ": not exactly once");
            }
            if (seen == firstChunk) {
                throw new IllegalStateException("every timed record arrived in one chunk; use more --records");
            }
            double seconds = (lastAt - firstAt) / 1e9;
            Map<String, Long> cpuAfter = cpuByThreadGroup();
            progress.accept("CPU seconds by thread during the stream run: " + cpuAfter.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), (e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L)) / 1e9))
                    .filter(e -> e.getValue() >= 0.05)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", ")));
            var scoring = meters.find("rlhf.scoring.ensemble.time").timer();
            var sizes = meters.find("rlhf.scoring.batch.size").summary();
            progress.accept(String.format(Locale.ROOT, "stream: %d records in %.2f s after the warm-up; the ensemble "
                            + "scored for %.2f s of the whole run (%d batches, %.1f records each on average)",
                    seen - firstChunk, seconds,
                    scoring == null ? 0.0 : scoring.totalTime(TimeUnit.NANOSECONDS) / 1e9,
                    scoring == null ? 0 : scoring.count(), sizes == null ? 0.0 : sizes.mean()));
            return new StreamRun((seen - firstChunk) / seconds, sizes == null ? 0.0 : sizes.mean(),
                    (cpuAtLast - cpuAtFirst) / 1e6 / (seen - firstChunk), (jitAtLast - jitAtFirst) / seconds);
        }
    }

    /** CPU time of this JVM's threads so far, summed by name with digits and ids folded, in ns. */
    private static Map<String, Long> cpuByThreadGroup() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> out = new HashMap<>();
        for (ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long cpu = mx.getThreadCpuTime(info.getThreadId());
            if (cpu > 0) {
                String group = info.getThreadName().replaceAll("bench-scoring-[0-9a-f-]+-", "")
                        .replaceAll("[0-9]+", "N");
                out.merge(group, cpu, Long::sum);
            }
        }
        return out;
    }

    /**
     * Writes the input in one transaction, so either every record is on the topic or the bench fails here (a plain
     * producer's send errors would go unnoticed and the bench would wait for records that were never written).
     */
    private static void produce(Map<String, Object> settings, TopicSpec<String, Generation> spec,
                                List<Generation> generations) {
        Properties p = clientSettings(settings, ProducerConfig.configNames());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-input-" + UUID.randomUUID());
        try (KafkaProducer<String, Generation> producer = new KafkaProducer<>(p, spec.keySerializer(),
                spec.valueSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (Generation g : generations) {
                producer.send(new ProducerRecord<>(spec.name(), g.getPromptId(), g));
            }
            producer.commitTransaction();
        }
    }

    /** The bench's own clients' share of the catalog settings (bootstrap and, on a secure cluster, credentials). */
    private static Properties clientSettings(Map<String, Object> settings, Set<String> clientKeys) {
        Properties p = new Properties();
        settings.forEach((k, v) -> {
            if (clientKeys.contains(k)) {
                p.put(k, v);
            }
        });
        return p;
    }

    private static KafkaConsumer<String, ScoredGeneration> reader(Map<String, Object> settings, Topics topics) {
        Properties p = clientSettings(settings, ConsumerConfig.configNames());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-reader-" + UUID.randomUUID());
        KafkaConsumer<String, ScoredGeneration> consumer = new KafkaConsumer<>(p, topics.scored().keyDeserializer(),
                topics.scored().valueDeserializer());
        consumer.subscribe(List.of(topics.scored().name()));
        return consumer;
    }

    /** Synthetic generations: 24 prompt and 32 response tokens from a vocabulary of 64, seeded. */
    static List<Generation> generations(int n) {
        Random random = new Random(42);
        List<Generation> out = new ArrayList<>(n);
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            List<Integer> prompt = new ArrayList<>();
            List<Integer> response = new ArrayList<>();
            List<Float> logprobs = new ArrayList<>();
            StringBuilder text = new StringBuilder();
            for (int t = 0; t < 24; t++) {
                prompt.add(4 + random.nextInt(60));
            }
            for (int t = 0; t < 32; t++) {
                int id = 4 + random.nextInt(60);
                response.add(id);
                logprobs.add(-1f);
                text.append(t == 0 ? "" : " ").append("w").append(id);
            }
            out.add(Generation.newBuilder().setGenerationId("bench-" + i).setPromptId("prompt-" + (i % 97))
                    .setGroupSize(1).setGroupIndex(0).setPromptTokens(prompt).setResponseTokens(response)
                    .setPromptText("prompt " + i).setResponseText(text.toString()).setBehaviourLogprobs(logprobs)
                    .setPolicyName("bench").setPolicyVersion(1L).setWorkerId("bench").setFinishReason(FinishReason.EOS)
                    .setSampling(SamplingParams.newBuilder().setTemperature(1f).setMaxNewTokens(32).build())
                    .setCategory(null).setStartedAt(now).setCreatedAt(now).build());
        }
        return out;
    }
}
