package io.streamrlhf.producer.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.producer.swap.PolicyFollower;
import io.streamrlhf.producer.swap.VerifiedPolicy;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One policy worker: consumes {@code prompts} in a consumer group, samples {@code samples_per_prompt} responses
 * per prompt, and publishes {@code Generation}s (key prompt_id) and the consumed prompt offsets in one Kafka
 * transaction, so every prompt's group of generations becomes visible to {@code read_committed} readers exactly
 * once, however the worker stops.
 *
 * <p><b>Batching.</b> Prompts accumulate until their rows (prompts × samples) reach
 * {@link WorkerConfig#batchMaxSize()} or {@link WorkerConfig#batchMaxWaitMs()} has passed since the first one
 * arrived; one batch is one sampling call (a prompt with more samples than the batch size is split into several
 * calls) and one transaction.
 *
 * <p><b>Hot swap.</b> Between batches, never inside one, the worker copies the {@link PolicyFollower}'s newest
 * verified version into its running policy in place; a version that cannot be loaded (another shape) is refused,
 * logged and counted, and the current one keeps serving.
 *
 * <p><b>Failures.</b> A prompt that cannot be read or is invalid goes to {@code prompts.dlq} inside the same
 * transaction. A transaction that fails for a retriable reason is aborted and its prompts are consumed again; a
 * fenced producer (another instance took over the transactional id, or the group moved on) stops the worker.
 *
 * <p><b>Shutdown.</b> {@link #close(Duration)} stops polling; the open batch may finish and commit within the
 * grace period, otherwise its transaction is aborted and its prompts go back to the group (another worker, or
 * this one after a restart, generates them again). Runs on its own thread; not otherwise thread-safe.
 */
public final class PolicyWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyWorker.class);
    /** Prompts may ask for at most this many samples; more is dead-lettered as a mistake. */
    public static final int MAX_SAMPLES_PER_PROMPT = 1024;

    private final WorkerConfig config;
    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final PolicyFollower follower;
    private final WorkerHooks hooks;
    private final Vocabulary vocabulary;
    private final Counter generationsCounter;
    private final Counter committedCounter;
    private final Counter abortedCounter;
    private final Counter dlqCounter;
    private final Counter swapRefusedCounter;
    private final Timer batchTimer;
    private final Timer swapTimer;
    private final Timer samplingTimer;
    private final AtomicLong currentVersion = new AtomicLong(-1);
    private final AtomicLong generations = new AtomicLong();
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Deque<Pending> pending = new ArrayDeque<>();

    private volatile boolean stopRequested;
    private volatile long stopDeadlineNanos = Long.MAX_VALUE;
    private volatile Throwable failure;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;
    private long refusedVersion = -1;
    private long batches;

    /**
     * @param config           the worker's settings
     * @param topics           the topic catalog (serdes included)
     * @param clientProperties Kafka client settings (bootstrap servers, security)
     * @param follower         the started follower of the policy's versions (shared by a process's workers)
     * @param meters           where the worker's counters and timers go
     */
    public PolicyWorker(WorkerConfig config, Topics topics, Map<String, Object> clientProperties,
                        PolicyFollower follower, MeterRegistry meters) {
        this(config, topics, clientProperties, follower, meters, WorkerHooks.NONE);
    }

    PolicyWorker(WorkerConfig config, Topics topics, Map<String, Object> clientProperties, PolicyFollower follower,
                 MeterRegistry meters, WorkerHooks hooks) {
        this.config = config;
        this.topics = topics;
        this.clientProperties = Map.copyOf(clientProperties);
        this.follower = follower;
        this.hooks = hooks;
        this.vocabulary = Vocabulary.standard();
        String policy = config.policyName();
        String worker = config.workerId();
        this.generationsCounter = Counter.builder("rlhf.worker.generations").tag("policy", policy)
                .tag("worker", worker).description("Generations committed").register(meters);
        this.committedCounter = Counter.builder("rlhf.worker.transactions").tag("policy", policy)
                .tag("worker", worker).tag("outcome", "committed").register(meters);
        this.abortedCounter = Counter.builder("rlhf.worker.transactions").tag("policy", policy)
                .tag("worker", worker).tag("outcome", "aborted").register(meters);
        this.dlqCounter = Counter.builder("rlhf.worker.dlq").tag("policy", policy).tag("worker", worker)
                .description("Prompts sent to the dead-letter topic").register(meters);
        this.swapRefusedCounter = Counter.builder("rlhf.worker.swap.refused").tag("policy", policy)
                .tag("worker", worker).description("Verified versions this worker could not load").register(meters);
        this.batchTimer = Timer.builder("rlhf.worker.batch").tag("policy", policy).tag("worker", worker)
                .description("One batch: sampling, sending and committing").register(meters);
        this.samplingTimer = Timer.builder("rlhf.worker.sampling").tag("policy", policy).tag("worker", worker)
                .description("Time inside the sampler (the work Kafka adds nothing to)").register(meters);
        this.swapTimer = Timer.builder("rlhf.worker.swap").tag("policy", policy).tag("worker", worker)
                .description("Copying a new version's weights into the running policy").register(meters);
        Gauge.builder("rlhf.worker.policy.version", currentVersion, AtomicLong::get).tag("policy", policy)
                .tag("worker", worker).register(meters);
    }

    /** Starts the worker on its own thread; it first waits for a verified policy version. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("worker " + config.workerId() + " already started");
        }
        thread = new Thread(this::run, "policy-worker-" + config.workerId());
        thread.start();
    }

    /** Waits until the worker has its policy and has joined the group's consumption; false on timeout. */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Waits until the worker's thread has ended; false on timeout. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The policy version the next batch is generated with; −1 before the worker has one. */
    public long currentVersion() {
        return currentVersion.get();
    }

    /** Generations committed so far. */
    public long generationsCommitted() {
        return generations.get();
    }

    /** Transactions committed so far. */
    public long transactionsCommitted() {
        return (long) committedCounter.count();
    }

    /** Transactions aborted so far. */
    public long transactionsAborted() {
        return (long) abortedCounter.count();
    }

    /** Whether {@link #close} was called. */
    public boolean stopRequested() {
        return stopRequested;
    }

    /** Why the worker stopped on its own, if it did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** This worker's id. */
    public String workerId() {
        return config.workerId();
    }

    /** The name of the policy this worker serves. */
    public String policyName() {
        return config.policyName();
    }

    /** Stops with the configured grace period ({@link WorkerConfig#shutdownGraceMs()}). */
    @Override
    public void close() {
        close(Duration.ofMillis(config.shutdownGraceMs()));
    }

    /**
     * Stops the worker and waits for its thread: the open batch may commit within {@code grace}; past it the open
     * transaction is aborted. Prompts received but not yet in a transaction are left to the group.
     */
    public void close(Duration grace) {
        stopDeadlineNanos = System.nanoTime() + grace.toNanos();
        stopRequested = true;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(grace.toMillis() + 60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------

    private void run() {
        TransformerPolicy policy = null;
        KafkaProducer<byte[], byte[]> producer = null;
        try {
            VerifiedPolicy initial = follower.awaitFirst(Duration.ofMillis(config.policyWaitMs()));
            if (stopRequested) {
                return;
            }
            policy = TransformerPolicy.fromCheckpoint(initial.checkpoint());
            currentVersion.set(initial.version());
            LOG.info("worker {} serves policy '{}' version {}", config.workerId(), config.policyName(),
                    initial.version());
            producer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer());
            producer.initTransactions();
            consumer = new KafkaConsumer<>(consumerProperties(), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            consumer.subscribe(List.of(topics.prompts().name()), new Rebalance());
            loop(policy, producer);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("worker {} stopped on an error", config.workerId(), e);
        } finally {
            ready.countDown();
            KafkaConsumer<byte[], byte[]> c = consumer;
            consumer = null;  // close() must not wake up a closed consumer
            if (c != null) {
                try {
                    c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
                } catch (RuntimeException e) {
                    LOG.debug("closing the consumer: {}", e.toString());
                }
            }
            if (producer != null) {
                try {
                    producer.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.debug("closing the producer: {}", e.toString());
                }
            }
            if (policy != null) {
                policy.close();
            }
            stopped.countDown();
            LOG.info("worker {} stopped: {} generations in {} committed and {} aborted transactions",
                    config.workerId(), generations.get(), transactionsCommitted(), transactionsAborted());
        }
    }

    private void loop(TransformerPolicy policy, KafkaProducer<byte[], byte[]> producer) {
        Sampler sampler = new Sampler(policy);
        PromptEncoder encoder = new PromptEncoder(vocabulary, policy.config().contextLength(), config.maxNewTokens());
        long firstPendingAt = 0;
        boolean signalled = false;
        while (!stopRequested) {
            maybeSwap(policy);
            long now = System.nanoTime();
            long waitMs = pending.isEmpty() ? 100
                    : Math.max(0, (firstPendingAt + config.batchMaxWaitMs() * 1_000_000L - now) / 1_000_000L);
            if (pendingRows() >= config.batchMaxSize()) {
                waitMs = 0;
            }
            try {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(waitMs))) {
                    if (pending.isEmpty()) {
                        firstPendingAt = System.nanoTime();
                    }
                    pending.add(Pending.of(r, topics.prompts()));
                }
            } catch (WakeupException e) {
                continue;  // close() woke the poll up; the loop condition decides
            }
            if (!signalled) {
                ready.countDown();
                signalled = true;
            }
            now = System.nanoTime();
            if (!pending.isEmpty() && (pendingRows() >= config.batchMaxSize()
                    || now - firstPendingAt >= config.batchMaxWaitMs() * 1_000_000L || stopRequested)) {
                if (stopRequested && System.nanoTime() > stopDeadlineNanos) {
                    break;  // past the grace period: leave the prompts to the group
                }
                List<Pending> batch = takeBatch();
                long started = System.nanoTime();
                process(batch, sampler, encoder, producer);
                batchTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                firstPendingAt = System.nanoTime();
            }
        }
    }

    private int pendingRows() {
        int rows = 0;
        for (Pending p : pending) {
            rows += p.rows();
        }
        return rows;
    }

    /** Prompts in arrival order until the next would overflow the batch; always at least one. */
    private List<Pending> takeBatch() {
        List<Pending> batch = new ArrayList<>();
        int rows = 0;
        while (!pending.isEmpty()) {
            Pending next = pending.peekFirst();
            if (!batch.isEmpty() && rows + next.rows() > config.batchMaxSize()) {
                break;
            }
            batch.add(pending.pollFirst());
            rows += next.rows();
        }
        return batch;
    }

    private void maybeSwap(TransformerPolicy policy) {
        Optional<VerifiedPolicy> newest = follower.newest();
        if (newest.isEmpty()) {
            return;
        }
        VerifiedPolicy n = newest.get();
        if (n.version() <= currentVersion.get() || n.version() == refusedVersion) {
            return;
        }
        long started = System.nanoTime();
        try {
            policy.loadWeights(n.checkpoint());
        } catch (CheckpointException e) {
            refusedVersion = n.version();
            swapRefusedCounter.increment();
            LOG.warn("worker {} refused policy '{}' version {}: {}; still serving version {}", config.workerId(),
                    config.policyName(), n.version(), e.getMessage(), currentVersion.get());
            return;
        }
        swapTimer.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        LOG.info("worker {} swapped policy '{}' from version {} to {} in {} ms ({} ms after publication)",
                config.workerId(), config.policyName(), currentVersion.get(), n.version(),
                (System.nanoTime() - started) / 1_000_000, Duration.between(n.publishedAt(), Instant.now()).toMillis());
        currentVersion.set(n.version());
    }

    private boolean abortRequested() {
        return stopRequested && System.nanoTime() > stopDeadlineNanos;
    }

    private void process(List<Pending> batch, Sampler sampler, PromptEncoder encoder,
                         KafkaProducer<byte[], byte[]> producer) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (Pending p : batch) {
            offsets.merge(p.partition(), new OffsetAndMetadata(p.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        long version = currentVersion.get();
        int sent = 0;
        producer.beginTransaction();
        try {
            List<Row> rows = new ArrayList<>();
            for (Pending p : batch) {
                Prompt prompt = p.prompt();
                if (p.error() != null) {
                    sendToDlq(producer, p, p.error());
                    continue;
                }
                String text;
                int[] tokens;
                try {
                    text = PromptEncoder.render(prompt.getConversation());
                    tokens = encoder.encode(text);
                } catch (RuntimeException e) {
                    sendToDlq(producer, p, e);
                    continue;
                }
                for (int i = 0; i < p.rows(); i++) {
                    rows.add(new Row(p, i, text, tokens));
                }
            }
            long seed = batchSeed(batch.get(0));
            for (int from = 0, chunk = 0; from < rows.size(); from += config.batchMaxSize(), chunk++) {
                if (abortRequested()) {
                    throw new ShutdownAbort();
                }
                List<Row> part = rows.subList(from, Math.min(rows.size(), from + config.batchMaxSize()));
                sent += sample(part, seed + chunk, version, sampler, encoder, producer);
            }
            for (MetricEvent e : follower.drainMetricEvents()) {
                send(producer, topics.metrics(), e.getComponent(), e);
            }
            producer.flush();
            hooks.beforeCommit(this, sent);
            if (abortRequested()) {
                throw new ShutdownAbort();
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException e) {
            // Not recoverable with this producer: another instance owns the transactional id, or the broker
            // refuses us. Stop; the open transaction is aborted by the broker or the new owner.
            throw e;
        } catch (ShutdownAbort e) {
            abort(producer, batch, "shutting down past the grace period");
            return;
        } catch (KafkaException e) {
            LOG.warn("worker {}: transaction of {} prompts failed ({}); aborting, the prompts will be consumed "
                    + "again", config.workerId(), batch.size(), e.toString());
            abort(producer, batch, e.toString());
            return;
        } catch (RuntimeException e) {
            abort(producer, batch, e.toString());
            throw e;
        }
        committedCounter.increment();
        generations.addAndGet(sent);
        generationsCounter.increment(sent);
        batches++;
        if (LOG.isDebugEnabled()) {
            LOG.debug("worker {} committed batch {}: {} prompts, {} generations, version {}", config.workerId(),
                    batches, batch.size(), sent, version);
        }
    }

    private int sample(List<Row> rows, long seed, long version, Sampler sampler, PromptEncoder encoder,
                       KafkaProducer<byte[], byte[]> producer) {
        int[][] prompts = new int[rows.size()][];
        for (int i = 0; i < rows.size(); i++) {
            prompts[i] = rows.get(i).tokens();
        }
        SamplingParams params = new SamplingParams(config.temperature(), config.topK(), config.topP(),
                config.maxNewTokens(), vocabulary.eosId(), vocabulary.padId(), seed);
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        SampleResult result = sampler.sample(prompts, params);
        samplingTimer.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        io.streamrlhf.schemas.avro.SamplingParams sampling = io.streamrlhf.schemas.avro.SamplingParams.newBuilder()
                .setTemperature((float) params.temperature()).setTopP((float) params.topP()).setTopK(params.topK())
                .setMaxNewTokens(params.maxNewTokens()).setSeed(seed).build();
        Instant created = Instant.now();
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            Prompt prompt = row.pending().prompt();
            Generation g = Generation.newBuilder()
                    .setGenerationId(generationId(row.pending(), row.index()))
                    .setPromptId(prompt.getPromptId())
                    .setGroupSize(row.pending().rows())
                    .setGroupIndex(row.index())
                    .setPromptTokens(ints(row.tokens()))
                    .setResponseTokens(ints(result.tokens()[i]))
                    .setPromptText(row.text())
                    .setResponseText(encoder.decode(result.tokens()[i]))
                    .setBehaviourLogprobs(floats(result.logProbs()[i]))
                    .setPolicyName(config.policyName())
                    .setPolicyVersion(version)
                    .setWorkerId(config.workerId())
                    .setFinishReason(result.finishReasons()[i] == io.streamrlhf.models.sampling.FinishReason.EOS
                            ? FinishReason.EOS : FinishReason.MAX_TOKENS)
                    .setSampling(sampling)
                    .setCategory(prompt.getCategory())
                    .setStartedAt(started)
                    .setCreatedAt(created)
                    .build();
            send(producer, topics.generations(), prompt.getPromptId(), g);
        }
        return rows.size();
    }

    private <V> void send(KafkaProducer<byte[], byte[]> producer, TopicSpec<String, V> spec, String key, V value) {
        byte[] k = spec.keySerializer().serialize(spec.name(), key);
        byte[] v = spec.valueSerializer().serialize(spec.name(), value);
        producer.send(new ProducerRecord<>(spec.name(), k, v));
    }

    private void sendToDlq(KafkaProducer<byte[], byte[]> producer, Pending p, Throwable error) {
        TopicSpec<byte[], byte[]> dlq = topics.dlq(topics.prompts());
        LOG.warn("worker {}: prompt at {}@{} dead-lettered to {}: {}", config.workerId(), p.partition(), p.offset(),
                dlq.name(), error.getMessage());
        producer.send(new ProducerRecord<>(dlq.name(), null, null, p.key(), p.value(),
                DlqHeaders.describe(p.partition().topic(), p.partition().partition(), p.offset(), error,
                        "worker-" + config.workerId(), Instant.now())));
        dlqCounter.increment();
    }

    private void abort(KafkaProducer<byte[], byte[]> producer, List<Pending> batch, String why) {
        try {
            producer.abortTransaction();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("worker {}: aborting the transaction failed too: {}", config.workerId(), e.toString());
        }
        abortedCounter.increment();
        LOG.info("worker {} aborted a transaction of {} prompts ({})", config.workerId(), batch.size(), why);
        rewind(batch);
    }

    /** Seeks back to the first offset of the aborted batch (and drops later prompts already polled). */
    private void rewind(List<Pending> batch) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (Pending p : batch) {
            first.merge(p.partition(), p.offset(), Math::min);
        }
        for (Pending p : pending) {
            first.merge(p.partition(), p.offset(), Math::min);
        }
        pending.clear();
        Set<TopicPartition> assigned = consumer.assignment();
        first.forEach((tp, offset) -> {
            if (assigned.contains(tp)) {
                consumer.seek(tp, offset);
            }
        });
    }

    private long batchSeed(Pending first) {
        long h = config.seed() * 0x9E3779B97F4A7C15L;
        h ^= ((long) first.partition().partition() << 48) ^ first.offset();
        return h * 0xBF58476D1CE4E5B9L;
    }

    /**
     * A generation's id: a name-based UUID of the prompt record's position and the sample's index, so the same
     * prompt record always yields the same ids (an aborted and regenerated batch reuses them).
     */
    static String generationId(Pending p, int index) {
        String name = p.partition().topic() + "/" + p.partition().partition() + "/" + p.offset() + "/" + index;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static List<Integer> ints(int[] a) {
        List<Integer> out = new ArrayList<>(a.length);
        for (int x : a) {
            out.add(x);
        }
        return out;
    }

    private static List<Float> floats(float[] a) {
        List<Float> out = new ArrayList<>(a.length);
        for (float x : a) {
            out.add(x);
        }
        return out;
    }

    private Map<String, Object> consumerProperties() {
        Map<String, Object> props = ClientSettings.consumer(clientProperties);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Math.max(1, config.batchMaxSize()));
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "worker-" + config.workerId());
        return props;
    }

    private Map<String, Object> producerProperties() {
        Map<String, Object> props = ClientSettings.producer(clientProperties);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, config.transactionTimeoutMs());
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "worker-" + config.workerId());
        return props;
    }

    /** Drops polled prompts of partitions this worker no longer owns; their new owner consumes them. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            Set<TopicPartition> revoked = new HashSet<>(partitions);
            for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
                if (revoked.contains(it.next().partition())) {
                    it.remove();
                }
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            onPartitionsRevoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.info("worker {} now consumes {}", config.workerId(), partitions);
        }
    }

    /** A polled prompt record, read or with the error that kept it from being read. */
    record Pending(TopicPartition partition, long offset, byte[] key, byte[] value, Prompt prompt,
                   RuntimeException error) {

        static Pending of(ConsumerRecord<byte[], byte[]> r, TopicSpec<String, Prompt> spec) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            try {
                if (r.value() == null) {
                    throw new IllegalArgumentException("the prompt record has no value (a tombstone)");
                }
                Prompt prompt = spec.valueDeserializer().deserialize(r.topic(), r.headers(), r.value());
                if (prompt.getConversation().isEmpty()) {
                    throw new IllegalArgumentException("prompt " + prompt.getPromptId() + " has an empty conversation");
                }
                int k = prompt.getSamplesPerPrompt();
                if (k < 1 || k > MAX_SAMPLES_PER_PROMPT) {
                    throw new IllegalArgumentException("prompt " + prompt.getPromptId() + " asks for " + k
                            + " samples; expected 1.." + MAX_SAMPLES_PER_PROMPT);
                }
                return new Pending(tp, r.offset(), r.key(), r.value(), prompt, null);
            } catch (RuntimeException e) {
                return new Pending(tp, r.offset(), r.key(), r.value(), null, e);
            }
        }

        /** Sequences this prompt adds to a batch (0 for one that will be dead-lettered). */
        int rows() {
            return prompt == null ? 0 : prompt.getSamplesPerPrompt();
        }
    }

    private record Row(Pending pending, int index, String text, int[] tokens) {
    }

    /** Unwinds a transaction that shutdown asked to abort. */
    private static final class ShutdownAbort extends RuntimeException {
        ShutdownAbort() {
            super("shutdown", null, false, false);
        }
    }
}
