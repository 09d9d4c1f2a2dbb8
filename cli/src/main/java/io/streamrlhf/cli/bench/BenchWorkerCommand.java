package io.streamrlhf.cli.bench;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.embedded.EmbeddedKafkaBroker;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sft.SftConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.PromptEncoder;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.TopicCreator;
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
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf bench worker}: a policy worker's generations per second through Kafka against the same sampler's
 * throughput with no Kafka, and how long a published version takes to reach the generations. Last line:
 * {@code {"generations_per_s":..., "sampling_only_per_s":..., "ratio":..., "swap_p99_ms":..., ...}}.
 *
 * <ul>
 *   <li>Sampling only: the demo-sized policy samples the round's prompts in the batches the worker forms (prompts
 *       in order, {@code samples} rows each, up to {@code batch} rows), on a thread of its own as the worker's
 *       sampler runs on its own, with the same sampling parameters, tokens and PyTorch threads.</li>
 *   <li>Through Kafka: the same number of prompts, already committed on {@code prompts}, through one running worker
 *       (exactly-once transactions, pipelined: sampling of the next batch overlaps the commit of the last) on an
 *       embedded broker; the rate counts generations committed after the round's first committed batch.</li>
 *   <li>Warm-up: {@code --warmup-s} seconds through Kafka and one pass of sampling only run first and are not
 *       counted, so the JIT compiles the broker, client and Avro paths on its own time (measured here: the C2
 *       compiler thread took several CPU-seconds in the first 20 s, on two cores CPU the sampler then lacks).</li>
 *   <li>Rounds: sampling only and through Kafka alternate ({@code S K S K ... S}); each round's ratio is its Kafka
 *       phase over the mean of the sampling phases either side (the single round the benchmark first had), and
 *       {@code ratio} is the median of the rounds' ratios, so one phase caught in a burst of other load on a shared
 *       machine does not decide it. {@code generations_per_s} and {@code sampling_only_per_s} are totals over
 *       their phases.</li>
 *   <li>Swap: with prompts queued, {@code swaps} versions are published one at a time; each latency is from just
 *       before the version record is sent to the moment a {@code read_committed} reader sees the first generation
 *       carrying it (fetch, sha256 verification, in-place copy, the batch in flight and the next batch's commit
 *       included).</li>
 * </ul>
 */
@Command(name = "worker", mixinStandardHelpOptions = true,
        description = "Policy-worker throughput through Kafka vs sampling alone (goal: ratio >= 0.9), and the "
                + "version-publication-to-generation latency of hot swaps.")
public final class BenchWorkerCommand implements Callable<Integer> {

    @Option(names = "--prompts", defaultValue = "300", description = "Prompts per round and side (default ${DEFAULT-VALUE}).")
    int prompts;

    @Option(names = "--rounds", defaultValue = "3",
            description = "Alternating rounds of sampling only and through Kafka (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--warmup-s", defaultValue = "8",
            description = "Seconds of generation through Kafka, then one pass of sampling only, before the measured "
                    + "rounds; not counted (default ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--samples", defaultValue = "4", description = "Samples per prompt (default ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--batch", defaultValue = "32", description = "Rows per sampling call (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--max-new-tokens", defaultValue = "32", description = "Tokens per response (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--swaps", defaultValue = "20", description = "Versions published in the swap run (default ${DEFAULT-VALUE}).")
    int swaps;

    @Option(names = "--threads", defaultValue = "1",
            description = "PyTorch intra-op threads, 0 for all cores (default ${DEFAULT-VALUE}: on a shared, "
                    + "oversubscribed machine several intra-op threads made the sampling figures erratic).")
    int threads;

    @Option(names = "--json", description = "Print only the JSON line.")
    boolean json;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (prompts < 1 || rounds < 1 || !(warmupSeconds >= 0) || swaps < 0) {
            throw new IllegalArgumentException("bench worker: --prompts and --rounds must be >= 1 and "
                    + "--warmup-s and --swaps >= 0 (got " + prompts + ", " + rounds + ", " + warmupSeconds
                    + ", " + swaps + ")");
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelRuntime.init(threads);
        Path work = Files.createTempDirectory("rlhf-bench-worker");
        try {
            Checkpoint checkpoint;
            try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 7)) {
                checkpoint = policy.toCheckpoint(Map.of("name", "bench"), null);
            }
            say(out, "%d rounds of %d prompts x %d samples, batch %d, %d new tokens, demo policy %s%n", rounds,
                    prompts, samples, batch, maxNewTokens, SftConfig.DEMO_MODEL);
            Result r = run(checkpoint, work, out);
            double kafka = r.kafkaGenerations / r.kafkaSeconds;
            double alone = r.aloneGenerations / r.aloneSeconds;
            double inRun = r.samplerGenerations / r.samplerSeconds;
            StringBuilder perRound = new StringBuilder();
            for (double x : r.roundRatios) {
                perRound.append(perRound.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.3f", x));
            }
            out.printf(Locale.ROOT, "{\"generations_per_s\":%.1f, \"sampling_only_per_s\":%.1f, \"ratio\":%.3f, "
                            + "\"swap_p99_ms\":%.1f, \"swap_p50_ms\":%.1f, \"swaps\":%d, \"batch\":%d, \"samples\":%d, "
                            + "\"max_new_tokens\":%d, \"prompts\":%d, \"rounds\":%d, \"round_ratios\":[%s], "
                            + "\"sampling_in_run_per_s\":%.1f, \"ratio_in_run\":%.3f, \"sampler_busy\":%.3f, "
                            + "\"commit_ms_mean\":%.1f, \"sampling_ms_mean\":%.1f}%n",
                    kafka, alone, percentile(r.roundRatios, 0.50), percentile(r.swapMillis, 0.99), percentile(r.swapMillis, 0.50),
                    r.swapMillis.size(), batch, samples, maxNewTokens, prompts, rounds, perRound, inRun,
                    kafka / inRun, r.samplerSeconds / r.kafkaSeconds, r.commitMsMean, r.samplingMsMean);
            out.flush();
            return 0;
        } finally {
            deleteTree(work);
        }
    }

    /** Totals over the measured phases, the per-round ratios, and the swap latencies. */
    private static final class Result {
        long kafkaGenerations;
        double kafkaSeconds;
        long aloneGenerations;
        double aloneSeconds;
        /** Generations and seconds the worker's sampler spent sampling within the Kafka phases. */
        long samplerGenerations;
        double samplerSeconds;
        double commitMsMean;
        double samplingMsMean;
        final List<Double> roundRatios = new ArrayList<>();
        final List<Double> swapMillis = new ArrayList<>();
    }

    /** One timed phase: generations and seconds. */
    private record Phase(long generations, double seconds) {
        double rate() {
            return generations / seconds;
        }
    }

    /**
     * The worker's batches, sampled back to back on a thread of their own, as the worker samples on its own
     * thread. (Measured here: with more than one PyTorch intra-op thread, sampling on the JVM's main thread ran
     * 20-100x slower than on any other thread of the same process on the loaded build machine.)
     */
    private Phase samplingOnly(TransformerPolicy policy, List<Prompt> promptList) throws Exception {
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> new Thread(r, "bench-sampling-only"));
        try {
            return one.submit(() -> samplingOnlyHere(policy, promptList)).get();
        } finally {
            one.shutdown();
        }
    }

    private Phase samplingOnlyHere(TransformerPolicy policy, List<Prompt> promptList) {
        Vocabulary vocabulary = Vocabulary.standard();
        Sampler sampler = new Sampler(policy);
        PromptEncoder encoder = new PromptEncoder(vocabulary, policy.config().contextLength(), maxNewTokens);
        List<int[][]> batches = new ArrayList<>();
        List<int[]> rows = new ArrayList<>();
        for (Prompt p : promptList) {
            if (!rows.isEmpty() && rows.size() + samples > batch) {
                batches.add(rows.toArray(new int[0][]));
                rows.clear();
            }
            int[] tokens = encoder.encode(PromptEncoder.render(p.getConversation()));
            for (int i = 0; i < samples; i++) {
                rows.add(tokens);
            }
        }
        if (!rows.isEmpty()) {
            batches.add(rows.toArray(new int[0][]));
        }
        SamplingParams params = SamplingParams.of(maxNewTokens, vocabulary.eosId(), vocabulary.padId(), 1);
        for (int i = 0; i < Math.min(2, batches.size()); i++) {
            sampler.sample(batches.get(i), params);
        }
        long start = System.nanoTime();
        long generated = 0;
        for (int i = 0; i < batches.size(); i++) {
            generated += sampler.sample(batches.get(i), params.withSeed(i)).batchSize();
        }
        return new Phase(generated, (System.nanoTime() - start) / 1e9);
    }

    private Result run(Checkpoint checkpoint, Path work, PrintWriter out) throws Exception {
        Result result = new Result();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(work.resolve("kafka")).start();
             TransformerPolicy alonePolicy = TransformerPolicy.fromCheckpoint(checkpoint)) {
            Map<String, Object> settings = new HashMap<>();
            settings.put("bootstrap.servers", broker.bootstrapServers());
            // An in-process registry: the benchmark measures the worker, not registry round trips (cached anyway).
            settings.put("schema.registry.url", "mock://bench-" + UUID.randomUUID());
            settings.put(TopicsConfig.PREFIX, "bench.");
            settings.put(TopicsConfig.PARTITIONS, 1);
            settings.put(WorkerConfig.POLICY_NAME, "bench");
            settings.put(WorkerConfig.WORKER_ID, "bench-0");
            settings.put(WorkerConfig.BATCH_MAX_SIZE, batch);
            settings.put(WorkerConfig.BATCH_MAX_WAIT_MS, 20L);
            settings.put(WorkerConfig.MAX_NEW_TOKENS, maxNewTokens);
            Topics topics = Topics.create(settings);
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    broker.bootstrapServers()))) {
                new TopicCreator(admin, Duration.ofSeconds(30)).create(topics.all());
            }
            long nextVersion = 0;
            publish(topics, settings, checkpoint, work, nextVersion++);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            SyntheticPromptFeed feed = new SyntheticPromptFeed(42, samples);
            try (PromptSender sender = new PromptSender(topics, settings);
                 KafkaConsumer<String, Generation> reader = reader(broker.bootstrapServers(), topics);
                 WorkerPool pool = new WorkerPool(settings, 1, Optional.empty(), meters)) {
                pool.start();
                PolicyWorker worker = pool.workers().get(0);
                Timer sampling = meters.get("rlhf.worker.sampling").timer();
                Timer commit = meters.get("rlhf.worker.commit").timer();
                // The same prompts on both sides, every round (the worker does not mind seeing an id again).
                List<Prompt> alonePrompts = feed.next(prompts);
                if (warmupSeconds > 0) {
                    long warmGenerations = 0;
                    double warmSeconds = 0;
                    long warmUntil = System.nanoTime() + (long) (warmupSeconds * 1e9);
                    while (System.nanoTime() < warmUntil) {
                        Phase warm = throughKafka(sender, reader, alonePrompts, worker, sampling, result);
                        warmGenerations += warm.generations();
                        warmSeconds += warm.seconds();
                    }
                    Phase alone = samplingOnly(alonePolicy, alonePrompts);
                    say(out, "warm-up (not counted): through Kafka %.1f generations/s, sampling only %.1f "
                            + "generations/s%n", warmGenerations / warmSeconds, alone.rate());
                    result.samplerGenerations = 0;
                    result.samplerSeconds = 0;
                }
                long commitsBefore = commit.count();
                double commitSecondsBefore = commit.totalTime(TimeUnit.SECONDS);
                long samplingCallsBefore = sampling.count();
                double samplingSecondsBefore = sampling.totalTime(TimeUnit.SECONDS);
                Phase previous = samplingOnly(alonePolicy, alonePrompts);
                add(result, previous, false);
                say(out, "sampling only: %.1f generations/s%n", previous.rate());
                for (int round = 1; round <= rounds; round++) {
                    Phase kafka = throughKafka(sender, reader, alonePrompts, worker, sampling, result);
                    add(result, kafka, true);
                    Phase after = samplingOnly(alonePolicy, alonePrompts);
                    add(result, after, false);
                    double ratio = kafka.rate() / ((previous.rate() + after.rate()) / 2);
                    result.roundRatios.add(ratio);
                    say(out, "round %d: through Kafka %.1f generations/s (%d in %.2f s), then sampling only %.1f "
                            + "generations/s; ratio %.3f%n", round, kafka.rate(), kafka.generations(),
                            kafka.seconds(), after.rate(), ratio);
                    previous = after;
                }
                result.commitMsMean = 1000 * (commit.totalTime(TimeUnit.SECONDS) - commitSecondsBefore)
                        / Math.max(1, commit.count() - commitsBefore);
                result.samplingMsMean = 1000 * (sampling.totalTime(TimeUnit.SECONDS) - samplingSecondsBefore)
                        / Math.max(1, sampling.count() - samplingCallsBefore);
                say(out, "in the Kafka phases the sampler was busy %.0f%% of the time (%.1f ms a batch; a "
                                + "transaction took %.1f ms, overlapped with the next batch's sampling)%n",
                        100 * result.samplerSeconds / result.kafkaSeconds, result.samplingMsMean,
                        result.commitMsMean);

                // Keep the worker busy through the swap run: about 1.5 s of work per version, queued up front.
                double rate = result.kafkaGenerations / result.kafkaSeconds;
                int perSwap = (int) Math.max(samples, Math.ceil(rate * 1.5 / samples));
                SyntheticPromptFeed more = new SyntheticPromptFeed(43, samples);
                for (int s = 0; s < swaps; s++) {
                    sender.sendAll(more.next(perSwap));
                    Thread.sleep(300);  // let a batch of the current version start
                    long version = nextVersion++;
                    long published = publish(topics, settings, checkpoint, work, version);
                    long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                    Long seenAt = null;
                    long topUp = System.nanoTime() + 2_000_000_000L;
                    while (seenAt == null && System.nanoTime() < until) {
                        if (System.nanoTime() > topUp) {
                            sender.sendAll(more.next(perSwap));  // the queue ran dry before the swap: feed it
                            topUp = System.nanoTime() + 2_000_000_000L;
                        }
                        for (ConsumerRecord<String, Generation> r : reader.poll(Duration.ofMillis(5))) {
                            if (seenAt == null && r.value().getPolicyVersion() == version) {
                                seenAt = System.nanoTime();
                            }
                        }
                    }
                    if (seenAt == null) {
                        throw new IllegalStateException("no generation carried version " + version
                                + " within 2 minutes of its publication");
                    }
                    result.swapMillis.add((seenAt - published) / 1e6);
                    say(out, "version %d: first generation %.1f ms after publication%n", version,
                            result.swapMillis.get(result.swapMillis.size() - 1));
                }
                return result;
            }
        }
    }

    private static void add(Result result, Phase phase, boolean kafka) {
        if (kafka) {
            result.kafkaGenerations += phase.generations();
            result.kafkaSeconds += phase.seconds();
        } else {
            result.aloneGenerations += phase.generations();
            result.aloneSeconds += phase.seconds();
        }
    }

    /**
     * Sends the prompts (one transaction, so they are all there before the worker sees the first) and times the
     * worker's generations for them from the first committed chunk to the last, as a {@code read_committed} reader
     * sees them; adds the sampler's own time and generations over the same span to {@code result}.
     */
    private Phase throughKafka(PromptSender sender, KafkaConsumer<String, Generation> reader, List<Prompt> promptList,
                               PolicyWorker worker, Timer sampling, Result result) throws Exception {
        sender.sendAll(promptList);
        long expected = (long) promptList.size() * samples;
        long seen = 0;
        long firstChunk = -1;
        long firstAt = 0;
        long lastAt = 0;
        double samplingAtFirst = 0;
        long generatedAtFirst = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (seen < expected && System.nanoTime() < deadline) {
            int n = reader.poll(Duration.ofMillis(20)).count();
            if (n == 0) {
                continue;
            }
            seen += n;
            lastAt = System.nanoTime();
            if (firstChunk < 0) {
                firstChunk = seen;
                firstAt = lastAt;
                samplingAtFirst = sampling.totalTime(TimeUnit.SECONDS);
                generatedAtFirst = worker.generationsCommitted();
            }
        }
        if (seen < expected || seen == firstChunk) {
            throw new IllegalStateException("the worker committed " + seen + " of " + expected
                    + " generations within 10 minutes" + (seen == firstChunk ? " in one chunk; use more --prompts"
                    : ""));
        }
        result.samplerSeconds += sampling.totalTime(TimeUnit.SECONDS) - samplingAtFirst;
        result.samplerGenerations += worker.generationsCommitted() - generatedAtFirst;
        return new Phase(seen - firstChunk, (lastAt - firstAt) / 1e9);
    }

    /** Saves the checkpoint as a new version and publishes it; returns System.nanoTime() just before the send. */
    private static long publish(Topics topics, Map<String, Object> settings, Checkpoint checkpoint, Path work,
                                long version) throws Exception {
        Path dir = CheckpointStore.save(checkpoint, work.resolve("v" + version));
        String sha = CheckpointStore.sha256(Files.readAllBytes(dir.resolve(CheckpointStore.MANIFEST)));
        PolicyVersion record = PolicyVersion.newBuilder().setName("bench").setVersion(version)
                .setCheckpointUri(dir.toUri().toString()).setSha256(sha).setSizeBytes(0)
                .setParentVersion(version > 0 ? version - 1 : null).setStep(null).setMetrics(Map.of())
                .setCreatedAt(Instant.now()).build();
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"),
                ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, PolicyVersion> p = new KafkaProducer<>(props,
                topics.policyVersions().keySerializer(), topics.policyVersions().valueSerializer())) {
            long before = System.nanoTime();
            p.send(new ProducerRecord<>(topics.policyVersions().name(), "bench", record)).get();
            return before;
        }
    }

    private static KafkaConsumer<String, Generation> reader(String bootstrap, Topics topics) {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, Generation> consumer = new KafkaConsumer<>(p, topics.generations().keyDeserializer(),
                topics.generations().valueDeserializer());
        List<TopicPartition> parts = consumer.partitionsFor(topics.generations().name(), Duration.ofSeconds(30))
                .stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        return consumer;
    }

    static double percentile(List<Double> values, double q) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(q * sorted.size()) - 1;  // nearest rank
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private void say(PrintWriter out, String format, Object... args) {
        if (!json) {
            out.printf(Locale.ROOT, format, args);
            out.flush();
        }
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
