package io.streamrlhf.cli.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedKafkaBroker;
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
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench scoring}: the reward stream's throughput against the same ensemble's batched throughput
 * in-process, same batch size, same run. Last line:
 * {@code {"stream_records_per_s":..., "raw_records_per_s":..., "ratio":..., "batch":..., "sources":[...],
 * "stream_mean_batch":..., "torch_threads":..., "pipeline":..., "commit_interval_ms":..., "raw_cpu_ms_per_record":...,
 * "stream_cpu_ms_per_record":..., "raw_jit_ms_per_s":..., "stream_jit_ms_per_s":...}}.
 *
 * <p>Raw: the ensemble scores the generations in batches of B in this thread, no Kafka, after untimed warm-up batches;
 * measured before and after the stream run and averaged. Stream: the same generations, already on
 * {@code generations} (written in one transaction), go through the running {@code ScoringApp} (exactly-once v2) on
 * an embedded broker; the rate counts records committed to {@code scored} after the first {@code --warmup}, so
 * start-up and JIT warm-up are not counted, and the run fails unless every input came out exactly once. Both use
 * the same ensemble, batch size and PyTorch threads; {@code stream_mean_batch} shows the batch size the stream
 * actually scored, and {@code *_jit_ms_per_s} the JIT compilers' time per second in each timed part (a warm-up too
 * short for the Kafka code shows up there, not as a slow stream).
 */
@Command(name = "scoring", mixinStandardHelpOptions = true,
        description = "Reward-stream throughput vs in-process batched scoring of the same ensemble (goal: ratio >= 0.9).")
public final class BenchScoringCommand implements Callable<Integer> {

    @Option(names = "--records", defaultValue = "30000", description = "Generations to score (default ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--warmup", defaultValue = "15000",
            description = "Records not timed while the code paths warm up (the JIT compiles Kafka's broker, client "
                    + "and Streams code for the first 12,000 or so records and takes a third of two cores "
                    + "meanwhile; the JSON's stream_jit_ms_per_s shows what is left in the timed part); the "
                    + "in-process run likewise scores this many untimed first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--batch", defaultValue = "32", description = "Micro-batch size B (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--sources", paramLabel = "SPECS",
            description = "The ensemble as reward specs; default: a built-in transformer reward model "
                    + "(d=128, 2 layers, context 64, random weights) and rule:length.")
    String sources;

    @Option(names = "--max-wait-ms", defaultValue = "200",
            description = "The stream's batch time limit T in ms (default ${DEFAULT-VALUE}, the app's default).")
    long maxWaitMs;

    @Option(names = "--commit-interval-ms", defaultValue = "100",
            description = "The stream's commit.interval.ms (default ${DEFAULT-VALUE}, Kafka Streams' default under "
                    + "exactly-once): every commit ends a transaction.")
    long commitIntervalMs;

    @Option(names = "--torch-threads", defaultValue = "1",
            description = "PyTorch intra-op threads for both measurements (default ${DEFAULT-VALUE}; 0: PyTorch's "
                    + "default, one per core). Ignored when -Dai.djl.pytorch.num_threads is given.")
    int torchThreads;

    @Option(names = "--no-pipeline",
            description = "Score on the stream thread (scoring.pipeline=false) instead of on a scorer thread while "
                    + "the stream thread reads the next batch.")
    boolean noPipeline;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        // Set before any model loads: PyTorch reads it once, when the engine starts.
        if (torchThreads > 0 && System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(torchThreads));
            System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(torchThreads));
        }
        String threads = System.getProperty("ai.djl.pytorch.num_threads", "default");
        boolean pipeline = !noPipeline;
        Path work = Files.createTempDirectory("rlhf-bench-scoring");
        try {
            String specs = sources != null ? sources : defaultSpecs(work);
            List<RewardSource> built = RewardSources.createAll(RewardSpec.parseList(specs));
            RewardEnsemble ensemble = RewardEnsemble.builder().addAll(built).build();
            List<String> names = built.stream().map(RewardSource::name).toList();
            List<Generation> generations = generations(records);
            List<ScoringInput> inputs = generations.stream().map(ScoringInput::of).toList();

            say(out, "scoring %d generations with %s, batch %d, torch threads %s, pipeline %s%n", records, names,
                    batch, threads, pipeline ? "on" : "off");
            // Raw throughput is measured before and after the stream and averaged: on a shared machine the load
            // drifts, and bracketing the stream run keeps the two figures comparable.
            Raw rawBefore = rawThroughput(ensemble, inputs);
            say(out, "in-process batched: %.0f records/s, %.3f CPU ms per record, JIT %.0f ms/s%n",
                    rawBefore.recordsPerSecond(), rawBefore.cpuMsPerRecord(), rawBefore.jitMsPerSecond());
            StreamRun run = streamThroughput(ensemble, generations, work, out);
            double stream = run.recordsPerSecond();
            say(out, "through the stream: %.0f records/s, %.3f CPU ms per record (whole process), JIT %.0f ms/s%n",
                    stream, run.cpuMsPerRecord(), run.jitMsPerSecond());
            // The app closed its ensemble; the same specs give the same models again.
            Raw rawAfter;
            try (RewardEnsemble again = RewardEnsemble.builder()
                    .addAll(RewardSources.createAll(RewardSpec.parseList(specs))).build()) {
                rawAfter = rawThroughput(again, inputs);
            }
            say(out, "in-process batched again: %.0f records/s, %.3f CPU ms per record, JIT %.0f ms/s%n",
                    rawAfter.recordsPerSecond(), rawAfter.cpuMsPerRecord(), rawAfter.jitMsPerSecond());
            double raw = (rawBefore.recordsPerSecond() + rawAfter.recordsPerSecond()) / 2;
            double rawCpu = (rawBefore.cpuMsPerRecord() + rawAfter.cpuMsPerRecord()) / 2;
            double rawJit = (rawBefore.jitMsPerSecond() + rawAfter.jitMsPerSecond()) / 2;
            out.printf(Locale.ROOT, "{\"stream_records_per_s\":%.1f, \"raw_records_per_s\":%.1f, \"ratio\":%.3f, "
                            + "\"batch\":%d, \"sources\":[%s], \"stream_mean_batch\":%.2f, \"torch_threads\":\"%s\", "
                            + "\"pipeline\":%s, \"commit_interval_ms\":%d, \"raw_cpu_ms_per_record\":%.3f, "
                            + "\"stream_cpu_ms_per_record\":%.3f, \"raw_jit_ms_per_s\":%.0f, "
                            + "\"stream_jit_ms_per_s\":%.0f}%n",
                    stream, raw, stream / raw, batch,
                    names.stream().map(n -> "\"" + n.replace("\"", "\\\"") + "\"").collect(Collectors.joining(",")),
                    run.meanBatch(), threads, pipeline, commitIntervalMs, rawCpu, run.cpuMsPerRecord(), rawJit,
                    run.jitMsPerSecond());
            out.flush();
            return 0;
        } finally {
            deleteTree(work);
        }
    }

    private void say(PrintWriter out, String format, Object... args) {
        if (!json) {
            out.printf(Locale.ROOT, format, args);
            out.flush();
        }
    }

    private static String defaultSpecs(Path work) {
        try (TransformerRewardModel rm = TransformerRewardModel.create(new TransformerConfig(64, 64, 128, 2, 4), 7)) {
            Path dir = CheckpointStore.save(rm.toCheckpoint(Map.of("name", "rm-bench", "version", "1"), null),
                    work.resolve("rm-bench"));
            return "rm:" + dir + ",rule:length";
        }
    }

    /** In-process rate, this process's CPU time per record and the JIT's compile time per second while measured. */
    private record Raw(double recordsPerSecond, double cpuMsPerRecord, double jitMsPerSecond) {
    }

    /** CPU time of the whole process so far (every thread, GC and JIT included), in ns. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * Time the JIT compilers have spent compiling so far, in ms (0 where the JVM does not say): compiling Kafka's code
     * takes much of a core for the stream's first seconds, and this shows whether a timed part was still paying it.
     */
    private static long jitMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    private Raw rawThroughput(RewardEnsemble ensemble, List<ScoringInput> inputs) {
        NormalizationState warm = new NormalizationState();
        int warmBatches = Math.max(1, Math.min(warmup, inputs.size() / 2) / batch);
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

    /**
     * The stream's rate, the mean size of the batches it scored (to check it scored batches of B), the process's CPU
     * time per record and the JIT's compile time per second in the timed part.
     */
    private record StreamRun(double recordsPerSecond, double meanBatch, double cpuMsPerRecord, double jitMsPerSecond) {
    }

    private StreamRun streamThroughput(RewardEnsemble ensemble, List<Generation> generations, Path work,
                                       PrintWriter out) throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(work.resolve("kafka")).start()) {
            Map<String, Object> settings = new HashMap<>();
            settings.put("bootstrap.servers", broker.bootstrapServers());
            // An in-process registry: the benchmark measures the stream, not registry round trips (which are cached).
            settings.put("schema.registry.url", "mock://bench-" + UUID.randomUUID());
            settings.put(TopicsConfig.PREFIX, "bench.");
            settings.put(TopicsConfig.PARTITIONS, 1);
            settings.put(RewardStreamConfig.APPLICATION_ID, "bench-scoring-" + UUID.randomUUID());
            settings.put(RewardStreamConfig.BATCH_SIZE, batch);
            settings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, maxWaitMs);
            settings.put("commit.interval.ms", commitIntervalMs);
            settings.put(RewardStreamConfig.PIPELINE, !noPipeline);
            settings.put(RewardStreamConfig.STATE_DIR, work.resolve("state").toString());
            Topics topics = Topics.create(settings);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers()))) {
                new TopicCreator(admin, Duration.ofSeconds(30)).create(topics.all());
            }
            produce(broker.bootstrapServers(), topics.generations(), generations);
            say(out, "produced %d generations to %s%n", generations.size(), topics.generations().name());

            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            try (ScoringApp app = ScoringApp.create(settings, ensemble, meters);
                 KafkaConsumer<String, ScoredGeneration> reader = reader(broker.bootstrapServers(), topics)) {
                app.start();
                Map<String, Long> cpuBefore = cpuByThreadGroup();
                if (!app.awaitReady(Duration.ofMinutes(2))) {
                    throw new IllegalStateException("the reward stream did not start (state " + app.state() + ")");
                }
                int seen = 0;
                java.util.Set<String> ids = new java.util.HashSet<>();
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
                    if (firstChunk < 0 && seen >= Math.min(warmup, generations.size() / 2)) {
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
                say(out, "CPU seconds by thread during the stream run: %s%n", cpuAfter.entrySet().stream()
                        .map(e -> Map.entry(e.getKey(), (e.getValue() - cpuBefore.getOrDefault(e.getKey(), 0L)) / 1e9))
                        .filter(e -> e.getValue() >= 0.05)
                        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                        .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue()))
                        .collect(Collectors.joining(", ")));
                var scoring = meters.find("rlhf.scoring.ensemble.time").timer();
                var sizes = meters.find("rlhf.scoring.batch.size").summary();
                say(out, "stream: %d records in %.2f s after the warm-up; the ensemble scored for %.2f s of the "
                                + "whole run (%d batches, %.1f records each on average)%n", seen - firstChunk, seconds,
                        scoring == null ? 0.0 : scoring.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) / 1e9,
                        scoring == null ? 0 : scoring.count(), sizes == null ? 0.0 : sizes.mean());
                return new StreamRun((seen - firstChunk) / seconds, sizes == null ? 0.0 : sizes.mean(),
                        (cpuAtLast - cpuAtFirst) / 1e6 / (seen - firstChunk), (jitAtLast - jitAtFirst) / seconds);
            }
        }
    }

    /** CPU time of this JVM's threads so far, summed by name with digits and ids folded, in ns. */
    private static Map<String, Long> cpuByThreadGroup() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<String, Long> out = new HashMap<>();
        for (java.lang.management.ThreadInfo info : mx.getThreadInfo(mx.getAllThreadIds())) {
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
    private static void produce(String bootstrap, TopicSpec<String, Generation> spec, List<Generation> generations) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
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

    private static KafkaConsumer<String, ScoredGeneration> reader(String bootstrap, Topics topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
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

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
