package io.streamrlhf.cli.bench;

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
 *   <li>Sampling only: the demo-sized policy samples the benchmark's prompts in the batches the worker forms
 *       (prompts in order, {@code samples} rows each, up to {@code batch} rows), in this thread; measured before
 *       and after the Kafka run and averaged, since the shared machine's load drifts.</li>
 *   <li>Through Kafka: the same prompts, already on {@code prompts}, through one running worker (exactly-once
 *       transactions) on an embedded broker; the rate counts generations committed after the first committed
 *       batch, so start-up is not counted.</li>
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

    @Option(names = "--prompts", defaultValue = "300", description = "Prompts in the throughput run (default ${DEFAULT-VALUE}).")
    int prompts;

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
        PrintWriter out = spec.commandLine().getOut();
        ModelRuntime.init(threads);
        Path work = Files.createTempDirectory("rlhf-bench-worker");
        try {
            Checkpoint checkpoint;
            try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 7)) {
                checkpoint = policy.toCheckpoint(Map.of("name", "bench"), null);
            }
            List<Prompt> promptList = new SyntheticPromptFeed(42, samples).next(prompts);
            say(out, "%d prompts x %d samples, batch %d, %d new tokens, demo policy %s%n", prompts, samples, batch,
                    maxNewTokens, SftConfig.DEMO_MODEL);

            double before = samplingOnly(checkpoint, promptList);
            say(out, "sampling only: %.1f generations/s%n", before);
            Result kafka = throughKafka(checkpoint, promptList, work, out);
            double after = samplingOnly(checkpoint, promptList);
            say(out, "sampling only again: %.1f generations/s%n", after);
            double raw = (before + after) / 2;
            out.printf(Locale.ROOT, "{\"generations_per_s\":%.1f, \"sampling_only_per_s\":%.1f, \"ratio\":%.3f, "
                            + "\"swap_p99_ms\":%.1f, \"swap_p50_ms\":%.1f, \"swaps\":%d, \"batch\":%d, \"samples\":%d, "
                            + "\"max_new_tokens\":%d, \"prompts\":%d, \"sampling_in_run_per_s\":%.1f, "
                            + "\"ratio_in_run\":%.3f}%n", kafka.generationsPerSecond, raw,
                    kafka.generationsPerSecond / raw, percentile(kafka.swapMillis, 0.99),
                    percentile(kafka.swapMillis, 0.50), kafka.swapMillis.size(), batch, samples, maxNewTokens, prompts,
                    kafka.samplingInRunPerSecond, kafka.generationsPerSecond / kafka.samplingInRunPerSecond);
            out.flush();
            return 0;
        } finally {
            deleteTree(work);
        }
    }

    /**
     * @param generationsPerSecond committed generations/s through Kafka
     * @param samplingInRunPerSecond generations per second of time the worker spent inside the sampler during the
     *                               same run (same load), i.e. the rate with Kafka's share taken out
     * @param swapMillis           publication-to-first-generation latencies
     */
    private record Result(double generationsPerSecond, double samplingInRunPerSecond, List<Double> swapMillis) {
    }

    /**
     * The worker's batches, sampled back to back on a thread of their own, as the worker samples on its own
     * thread. (Measured here: with more than one PyTorch intra-op thread, sampling on the JVM's main thread ran
     * 20-100x slower than on any other thread of the same process on the loaded build machine.)
     */
    private double samplingOnly(Checkpoint checkpoint, List<Prompt> promptList) throws Exception {
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor(
                r -> new Thread(r, "bench-sampling-only"));
        try {
            return one.submit(() -> samplingOnlyHere(checkpoint, promptList)).get();
        } finally {
            one.shutdown();
        }
    }

    private double samplingOnlyHere(Checkpoint checkpoint, List<Prompt> promptList) {
        Vocabulary vocabulary = Vocabulary.standard();
        try (TransformerPolicy policy = TransformerPolicy.fromCheckpoint(checkpoint)) {
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
            for (int i = 0; i < Math.min(3, batches.size()); i++) {
                sampler.sample(batches.get(i), params);
            }
            long start = System.nanoTime();
            long generated = 0;
            for (int i = 0; i < batches.size(); i++) {
                generated += sampler.sample(batches.get(i), params.withSeed(i)).batchSize();
            }
            return generated / ((System.nanoTime() - start) / 1e9);
        }
    }

    private Result throughKafka(Checkpoint checkpoint, List<Prompt> promptList, Path work, PrintWriter out)
            throws Exception {
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(work.resolve("kafka")).start()) {
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
            try (PromptSender sender = new PromptSender(topics, settings);
                 KafkaConsumer<String, Generation> reader = reader(broker.bootstrapServers(), topics);
                 WorkerPool pool = new WorkerPool(settings, 1, Optional.empty(), meters)) {
                sender.sendAll(promptList);
                say(out, "sent %d prompts to %s; starting the worker%n", promptList.size(), topics.prompts().name());
                pool.start();

                long expected = (long) promptList.size() * samples;
                long seen = 0;
                long firstChunk = -1;
                long firstAt = 0;
                long lastAt = 0;
                long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
                while (seen < expected && System.nanoTime() < deadline) {
                    int n = reader.poll(Duration.ofMillis(50)).count();
                    if (n == 0) {
                        continue;
                    }
                    seen += n;
                    lastAt = System.nanoTime();
                    if (firstChunk < 0) {
                        firstChunk = seen;
                        firstAt = lastAt;
                    }
                }
                if (seen < expected || seen == firstChunk) {
                    throw new IllegalStateException("the worker committed " + seen + " of " + expected
                            + " generations within 10 minutes" + (seen == firstChunk ? " in one chunk; use more --prompts"
                            : ""));
                }
                double rate = (seen - firstChunk) / ((lastAt - firstAt) / 1e9);
                double samplingSeconds = meters.get("rlhf.worker.sampling").timer()
                        .totalTime(java.util.concurrent.TimeUnit.NANOSECONDS) / 1e9;
                double inRun = pool.workers().get(0).generationsCommitted() / samplingSeconds;
                say(out, "through Kafka: %.1f generations/s (%d after the first committed batch, %.2f s); the "
                        + "sampler alone ran at %.1f generations/s in the same run%n", rate, seen - firstChunk,
                        (lastAt - firstAt) / 1e9, inRun);

                List<Double> latencies = new ArrayList<>();
                // Keep the worker busy through the swap run: about 1.5 s of work per version, queued up front.
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
                    latencies.add((seenAt - published) / 1e6);
                    say(out, "version %d: first generation %.1f ms after publication%n", version,
                            latencies.get(latencies.size() - 1));
                }
                return new Result(rate, inRun, latencies);
            }
        }
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
