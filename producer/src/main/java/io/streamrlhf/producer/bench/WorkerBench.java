package io.streamrlhf.producer.bench;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import io.streamrlhf.producer.worker.WorldPromptEncoder;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.bench.BenchCluster;
import io.streamrlhf.schemas.bench.ScratchDirectory;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * The policy-worker benchmark: a worker's generations per second through Kafka against the same sampler's
 * throughput with no Kafka, and how long a published version takes to reach the generations.
 *
 * <ul>
 *   <li>Sampling only: the demo-sized policy samples the round's prompts in the batches the worker forms (prompts
 *       in order, {@code samples} rows each, up to {@code batch} rows), on a thread of its own as the worker's
 *       sampler runs on its own, with the same sampling parameters, tokens and PyTorch threads.</li>
 *   <li>Through Kafka: the same number of prompts, already committed on {@code prompts}, through one running worker
 *       (exactly-once transactions, pipelined: sampling of the next batch overlaps the commit of the last) on the
 *       cluster it is handed; the rate counts generations committed after the round's first committed batch.</li>
 *   <li>Warm-up: {@code warmupSeconds} through Kafka and one pass of sampling only run first and are not counted, so
 *       the JIT compiles the broker, client and Avro paths on its own time (the C2 compiler thread takes several
 *       CPU-seconds in the first 20 s, which on two cores the sampler then lacks).</li>
 *   <li>Rounds: sampling only and through Kafka alternate ({@code S K S K ... S}); each round's ratio is its Kafka
 *       phase over the mean of the sampling phases either side, and {@code ratio} is the median of the rounds'
 *       ratios, so one phase caught in a burst of other load on a shared machine does not decide it.
 *       {@code generations_per_s} and {@code sampling_only_per_s} are totals over their phases.</li>
 *   <li>Swap: with prompts queued, {@code swaps} versions are published one at a time; each latency is from just
 *       before the version record is sent to the moment a {@code read_committed} reader sees the first generation
 *       carrying it (fetch, sha256 verification, in-place copy, the batch in flight and the next batch's commit
 *       included).</li>
 * </ul>
 */
public final class WorkerBench {

    /**
     * What to run.
     *
     * @param prompts       prompts per round and side
     * @param rounds        alternating rounds of sampling only and through Kafka
     * @param warmupSeconds seconds of generation through Kafka, then one pass of sampling only, not counted
     * @param samples       samples per prompt
     * @param batch         rows per sampling call
     * @param maxNewTokens  tokens per response
     * @param swaps         versions published in the swap run
     * @param threads       PyTorch intra-op threads, 0 for all cores
     */
    public record Parameters(int prompts, int rounds, double warmupSeconds, int samples, int batch, int maxNewTokens,
                             int swaps, int threads) {

        /** @throws IllegalArgumentException naming the first parameter out of range */
        public Parameters {
            atLeast("prompts", prompts, 1);
            atLeast("rounds", rounds, 1);
            if (!(warmupSeconds >= 0) || Double.isInfinite(warmupSeconds)) {
                throw new IllegalArgumentException("warmup-s must be a number >= 0, got " + warmupSeconds);
            }
            atLeast("samples", samples, 1);
            atLeast("batch", batch, 1);
            atLeast("max-new-tokens", maxNewTokens, 1);
            atLeast("swaps", swaps, 0);
        }

        private static void atLeast(String name, int value, int min) {
            if (value < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ", got " + value);
            }
        }
    }

    /**
     * Figures of one run: totals over the measured phases, the per-round ratios and the swap latencies.
     *
     * @param parameters         what ran
     * @param kafkaGenerations   generations counted through Kafka
     * @param kafkaSeconds       seconds they took
     * @param aloneGenerations   generations sampled with no Kafka
     * @param aloneSeconds       seconds they took
     * @param samplerGenerations generations the worker's sampler produced within the Kafka phases
     * @param samplerSeconds     seconds the worker's sampler spent sampling within the Kafka phases
     * @param commitMsMean       mean transaction time of the measured phases, ms
     * @param samplingMsMean     mean sampling time of a batch in the measured phases, ms
     * @param roundRatios        each round's Kafka rate over the mean of the sampling rates either side
     * @param swapMillis         each swap's publication-to-first-generation latency, ms
     */
    public record Result(Parameters parameters, long kafkaGenerations, double kafkaSeconds, long aloneGenerations,
                         double aloneSeconds, long samplerGenerations, double samplerSeconds, double commitMsMean,
                         double samplingMsMean, List<Double> roundRatios, List<Double> swapMillis) {

        public Result {
            roundRatios = List.copyOf(roundRatios);
            swapMillis = List.copyOf(swapMillis);
        }

        public double generationsPerSecond() {
            return kafkaGenerations / kafkaSeconds;
        }

        public double samplingOnlyPerSecond() {
            return aloneGenerations / aloneSeconds;
        }

        /** The worker's own sampling rate within the Kafka phases. */
        public double samplingInRunPerSecond() {
            return samplerGenerations / samplerSeconds;
        }

        /** The median of the rounds' ratios. */
        public double ratio() {
            return percentile(roundRatios, 0.50);
        }

        /**
         * The JSON line: {@code {"generations_per_s":..., "sampling_only_per_s":..., "ratio":...,
         * "swap_p99_ms":..., ...}} ({@code NaN} latencies where no swap ran).
         */
        public String toJson() {
            double kafka = generationsPerSecond();
            double inRun = samplingInRunPerSecond();
            String perRound = roundRatios.stream().map(x -> String.format(Locale.ROOT, "%.3f", x))
                    .collect(Collectors.joining(", "));
            return String.format(Locale.ROOT, "{\"generations_per_s\":%.1f, \"sampling_only_per_s\":%.1f, "
                            + "\"ratio\":%.3f, \"swap_p99_ms\":%.1f, \"swap_p50_ms\":%.1f, \"swaps\":%d, \"batch\":%d, "
                            + "\"samples\":%d, \"max_new_tokens\":%d, \"prompts\":%d, \"rounds\":%d, "
                            + "\"round_ratios\":[%s], \"sampling_in_run_per_s\":%.1f, \"ratio_in_run\":%.3f, "
                            + "\"sampler_busy\":%.3f, \"commit_ms_mean\":%.1f, \"sampling_ms_mean\":%.1f}",
                    kafka, samplingOnlyPerSecond(), ratio(), percentile(swapMillis, 0.99),
                    percentile(swapMillis, 0.50), swapMillis.size(), parameters.batch(), parameters.samples(),
                    parameters.maxNewTokens(), parameters.prompts(), parameters.rounds(), perRound, inRun,
                    kafka / inRun, samplerSeconds / kafkaSeconds, commitMsMean, samplingMsMean);
        }
    }

    private WorkerBench() {
    }

    /** The nearest-rank {@code q}-quantile of {@code values}, NaN when there are none. */
    static double percentile(List<Double> values, double q) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int index = (int) Math.ceil(q * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    /**
     * Runs the benchmark on the demo-sized policy.
     *
     * @param clusters starts the cluster once the policy checkpoint is written; closed when the run ends
     * @param progress receives one line per phase, for people
     * @throws IllegalStateException when the worker does not commit a round's generations, or a version does not
     *                               reach the generations, in time
     */
    public static Result run(Parameters parameters, Supplier<? extends BenchCluster> clusters,
                             Consumer<String> progress) throws Exception {
        ModelRuntime.init(parameters.threads());
        try (ScratchDirectory work = ScratchDirectory.create("rlhf-bench-worker")) {
            Checkpoint checkpoint;
            try (TransformerPolicy policy = TransformerPolicy.create(SftConfig.DEMO_MODEL, 7)) {
                checkpoint = policy.toCheckpoint(Map.of("name", "bench"), null);
            }
            progress.accept(String.format(Locale.ROOT,
                    "%d rounds of %d prompts x %d samples, batch %d, %d new tokens, demo policy %s",
                    parameters.rounds(), parameters.prompts(), parameters.samples(), parameters.batch(),
                    parameters.maxNewTokens(), SftConfig.DEMO_MODEL));
            try (BenchCluster cluster = clusters.get();
                 TransformerPolicy alonePolicy = TransformerPolicy.fromCheckpoint(checkpoint)) {
                return new Run(parameters, cluster.catalog(), cluster.settingsFor("worker"), checkpoint, work.path(),
                        progress).measure(alonePolicy);
            }
        }
    }

    /** One timed phase: generations and seconds. */
    private record Phase(long generations, double seconds) {
        double rate() {
            return generations / seconds;
        }
    }

    /** One run's state: the cluster's topics, the versions published so far and the running totals. */
    private static final class Run {
        private final Parameters parameters;
        private final Topics topics;
        private final Map<String, Object> settings;
        private final Map<String, Object> workerSettings;
        private final Checkpoint checkpoint;
        private final Path work;
        private final Consumer<String> progress;
        private long nextVersion;
        private long kafkaGenerations;
        private double kafkaSeconds;
        private long aloneGenerations;
        private double aloneSeconds;
        private long samplerGenerations;
        private double samplerSeconds;

        Run(Parameters parameters, CatalogTopics catalog, Map<String, Object> workerSettings, Checkpoint checkpoint,
            Path work, Consumer<String> progress) {
            this.parameters = parameters;
            this.topics = catalog.topics();
            this.settings = catalog.settings();
            this.workerSettings = new HashMap<>(workerSettings);
            this.workerSettings.put(WorkerConfig.POLICY_NAME, "bench");
            this.workerSettings.put(WorkerConfig.WORKER_ID, "bench-0");
            this.workerSettings.put(WorkerConfig.BATCH_MAX_SIZE, parameters.batch());
            this.workerSettings.put(WorkerConfig.BATCH_MAX_WAIT_MS, 20L);
            this.workerSettings.put(WorkerConfig.MAX_NEW_TOKENS, parameters.maxNewTokens());
            this.checkpoint = checkpoint;
            this.work = work;
            this.progress = progress;
        }

        private void say(String format, Object... args) {
            progress.accept(String.format(Locale.ROOT, format, args));
        }

        Result measure(TransformerPolicy alonePolicy) throws Exception {
            int samples = parameters.samples();
            publish(nextVersion++);
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            SyntheticPromptFeed feed = new SyntheticPromptFeed(42, samples);
            try (PromptSender sender = new PromptSender(topics, settings);
                 KafkaConsumer<String, Generation> reader = reader();
                 WorkerPool pool = new WorkerPool(workerSettings, 1, Optional.empty(), meters)) {
                pool.start();
                PolicyWorker worker = pool.workers().get(0);
                Timer sampling = meters.get("rlhf.worker.sampling").timer();
                Timer commit = meters.get("rlhf.worker.commit").timer();
                // The same prompts on both sides, every round (the worker does not mind seeing an id again).
                List<Prompt> alonePrompts = feed.next(parameters.prompts());
                if (parameters.warmupSeconds() > 0) {
                    long warmGenerations = 0;
                    double warmSeconds = 0;
                    long warmUntil = System.nanoTime() + (long) (parameters.warmupSeconds() * 1e9);
                    while (System.nanoTime() < warmUntil) {
                        Phase warm = throughKafka(sender, reader, alonePrompts, worker, sampling);
                        warmGenerations += warm.generations();
                        warmSeconds += warm.seconds();
                    }
                    Phase alone = samplingOnly(alonePolicy, alonePrompts);
                    say("warm-up (not counted): through Kafka %.1f generations/s, sampling only %.1f generations/s",
                            warmGenerations / warmSeconds, alone.rate());
                    samplerGenerations = 0;
                    samplerSeconds = 0;
                }
                long commitsBefore = commit.count();
                double commitSecondsBefore = commit.totalTime(TimeUnit.SECONDS);
                long samplingCallsBefore = sampling.count();
                double samplingSecondsBefore = sampling.totalTime(TimeUnit.SECONDS);
                List<Double> roundRatios = new ArrayList<>();
                Phase previous = samplingOnly(alonePolicy, alonePrompts);
                addAlone(previous);
                say("sampling only: %.1f generations/s", previous.rate());
                for (int round = 1; round <= parameters.rounds(); round++) {
                    Phase kafka = throughKafka(sender, reader, alonePrompts, worker, sampling);
                    kafkaGenerations += kafka.generations();
                    kafkaSeconds += kafka.seconds();
                    Phase after = samplingOnly(alonePolicy, alonePrompts);
                    addAlone(after);
                    double ratio = kafka.rate() / ((previous.rate() + after.rate()) / 2);
                    roundRatios.add(ratio);
                    say("round %d: through Kafka %.1f generations/s (%d in %.2f s), then sampling only %.1f "
                            + "generations/s; ratio %.3f", round, kafka.rate(), kafka.generations(),
                            kafka.seconds(), after.rate(), ratio);
                    previous = after;
                }
                double commitMsMean = 1000 * (commit.totalTime(TimeUnit.SECONDS) - commitSecondsBefore)
                        / Math.max(1, commit.count() - commitsBefore);
                double samplingMsMean = 1000 * (sampling.totalTime(TimeUnit.SECONDS) - samplingSecondsBefore)
                        / Math.max(1, sampling.count() - samplingCallsBefore);
                say("in the Kafka phases the sampler was busy %.0f%% of the time (%.1f ms a batch; a transaction "
                        + "took %.1f ms, overlapped with the next batch's sampling)",
                        100 * samplerSeconds / kafkaSeconds, samplingMsMean, commitMsMean);
                List<Double> swapMillis = swaps(sender, reader, kafkaGenerations / kafkaSeconds);
                return new Result(parameters, kafkaGenerations, kafkaSeconds, aloneGenerations, aloneSeconds,
                        samplerGenerations, samplerSeconds, commitMsMean, samplingMsMean, roundRatios, swapMillis);
            }
        }

        private void addAlone(Phase phase) {
            aloneGenerations += phase.generations();
            aloneSeconds += phase.seconds();
        }

        /**
         * Publishes {@code swaps} versions one at a time, keeping the worker busy through each (about 1.5 s of work
         * per version at {@code rate}, queued up front), and returns each one's latency to its first generation.
         */
        private List<Double> swaps(PromptSender sender, KafkaConsumer<String, Generation> reader, double rate)
                throws Exception {
            int samples = parameters.samples();
            int perSwap = (int) Math.max(samples, Math.ceil(rate * 1.5 / samples));
            SyntheticPromptFeed more = new SyntheticPromptFeed(43, samples);
            List<Double> swapMillis = new ArrayList<>();
            for (int s = 0; s < parameters.swaps(); s++) {
                sender.sendAll(more.next(perSwap));
                Thread.sleep(300);  // let a batch of the current version start
                long version = nextVersion++;
                long published = publish(version);
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
                swapMillis.add((seenAt - published) / 1e6);
                say("version %d: first generation %.1f ms after publication", version,
                        swapMillis.get(swapMillis.size() - 1));
            }
            return swapMillis;
        }

        /**
         * The worker's batches, sampled back to back on a thread of their own, as the worker samples on its own
         * thread. With more than one PyTorch intra-op thread, sampling on the JVM's main thread can run 20-100x slower
         * than on any other thread of the same process on a loaded machine.
         */
        private Phase samplingOnly(TransformerPolicy policy, List<Prompt> promptList) throws Exception {
            ExecutorService one = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-sampling-only"));
            try {
                return one.submit(() -> samplingOnlyHere(policy, promptList)).get();
            } finally {
                one.shutdown();
            }
        }

        private Phase samplingOnlyHere(TransformerPolicy policy, List<Prompt> promptList) {
            int samples = parameters.samples();
            Vocabulary vocabulary = Vocabulary.standard();
            Sampler sampler = new Sampler(policy);
            PromptEncoder encoder = new WorldPromptEncoder(vocabulary, policy.config().contextLength(),
                    parameters.maxNewTokens());
            List<int[][]> batches = new ArrayList<>();
            List<int[]> rows = new ArrayList<>();
            for (Prompt p : promptList) {
                if (!rows.isEmpty() && rows.size() + samples > parameters.batch()) {
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
            SamplingParams params = SamplingParams.of(parameters.maxNewTokens(), vocabulary.eosId(),
                    vocabulary.padId(), 1);
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

        /**
         * Sends the prompts (one transaction, so they are all there before the worker sees the first) and times the
         * worker's generations for them from the first committed chunk to the last, as a {@code read_committed}
         * reader sees them; adds the sampler's own time and generations over the same span to the totals.
         */
        private Phase throughKafka(PromptSender sender, KafkaConsumer<String, Generation> reader,
                                   List<Prompt> promptList, PolicyWorker worker, Timer sampling) {
            sender.sendAll(promptList);
            long expected = (long) promptList.size() * parameters.samples();
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
            samplerSeconds += sampling.totalTime(TimeUnit.SECONDS) - samplingAtFirst;
            samplerGenerations += worker.generationsCommitted() - generatedAtFirst;
            return new Phase(seen - firstChunk, (lastAt - firstAt) / 1e9);
        }

        /** Saves the checkpoint as a new version and publishes it; returns System.nanoTime() just before the send. */
        private long publish(long version) throws Exception {
            Path dir = CheckpointStore.save(checkpoint, work.resolve("v" + version));
            String sha = CheckpointStore.sha256(Files.readAllBytes(dir.resolve(CheckpointStore.MANIFEST)));
            PolicyVersion record = PolicyVersion.newBuilder().setName("bench").setVersion(version)
                    .setCheckpointUri(dir.toUri().toString()).setSha256(sha).setSizeBytes(0)
                    .setParentVersion(version > 0 ? version - 1 : null).setStep(null).setMetrics(Map.of())
                    .setCreatedAt(Instant.now()).build();
            Map<String, Object> props = clientSettings(ProducerConfig.configNames());
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            try (KafkaProducer<String, PolicyVersion> p = new KafkaProducer<>(props,
                    topics.policyVersions().keySerializer(), topics.policyVersions().valueSerializer())) {
                long before = System.nanoTime();
                p.send(new ProducerRecord<>(topics.policyVersions().name(), "bench", record)).get();
                return before;
            }
        }

        /** The bench's own clients' share of the catalog settings (bootstrap and, on a secure cluster, credentials). */
        private Map<String, Object> clientSettings(java.util.Set<String> clientKeys) {
            Map<String, Object> props = new HashMap<>(settings);
            props.keySet().retainAll(clientKeys);
            return props;
        }

        private KafkaConsumer<String, Generation> reader() {
            Map<String, Object> p = clientSettings(ConsumerConfig.configNames());
            p.remove(ConsumerConfig.GROUP_ID_CONFIG);
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            KafkaConsumer<String, Generation> consumer = new KafkaConsumer<>(p,
                    topics.generations().keyDeserializer(), topics.generations().valueDeserializer());
            List<TopicPartition> parts = consumer.partitionsFor(topics.generations().name(), Duration.ofSeconds(30))
                    .stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            return consumer;
        }
    }
}
