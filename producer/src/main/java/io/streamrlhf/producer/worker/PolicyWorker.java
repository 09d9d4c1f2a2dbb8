package io.streamrlhf.producer.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.models.pipeline.InOrderPipeline;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.sampling.TokenSampler;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.producer.swap.PolicyFollower;
import io.streamrlhf.producer.swap.PolicySwapper;
import io.streamrlhf.producer.swap.VerifiedPolicy;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CloseOptions.GroupMembershipOperation;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
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
 * <p><b>Pipeline.</b> Sampling runs on a thread of its own ({@code policy-sampler-<id>}); the worker's thread keeps
 * the consumer (poll, seek, rebalance callbacks) and the transactions. When batch n comes back from the sampler, the
 * worker polls, keeps the sampler two batches ahead (n+1 sampling, n+2 queued, in an {@link InOrderPipeline}), and
 * then sends and commits batch n while n+1 is sampled, so Kafka's share of a batch is hidden behind the next one's
 * sampling. Order and exactly-once are kept: transactions begin and commit one at a time, in poll order, each with
 * only its own batch's offsets; a partition revoked while batches are in flight is left out of their transactions (no
 * generations, no offset: the new owner consumes the prompts again); and when a transaction aborts, the batches
 * sampled behind it are thrown away too and the consumer seeks back to the first uncommitted prompt of each
 * partition.
 *
 * <p><b>Hot swap.</b> Between batches, never inside one, the worker copies the {@link PolicyFollower}'s newest
 * verified version into its running policy in place ({@link PolicySwapper}); a version that cannot be loaded (another
 * shape) is refused, logged and counted, and the current one keeps serving.
 *
 * <p>Prompts are read and validated by {@link PromptReader}, each batch is written in its transaction by
 * {@link BatchTransaction}, generations built by {@link GenerationRecords}, and the meters kept by
 * {@link WorkerMetrics}.
 *
 * <p><b>Failures.</b> A prompt that cannot be read or is invalid goes to {@code prompts.dlq} inside the same
 * transaction. A transaction that fails for a retriable reason is aborted and its prompts are consumed again; a
 * fenced producer (another instance took over the transactional id, or the group moved on) stops the worker.
 *
 * <p><b>Shutdown.</b> {@link #close(Duration)} stops polling; the open batch may finish and commit within the
 * grace period, otherwise its transaction is aborted and its prompts go back to the group (another worker, or
 * this one after a restart, generates them again). Runs on its own threads; not otherwise thread-safe.
 *
 * <p><b>Membership.</b> The consumer is a static member of the group ({@code group.instance.id} = the worker id,
 * {@link WorkerConfig#groupInstanceId()}): a killed worker restarted with its id takes its partitions back at once,
 * where a new dynamic member would wait until the group drops the dead one after {@code session.timeout.ms}. A worker
 * that closes leaves the group explicitly (a static member otherwise stays until its session times out), so a
 * scale-down hands its partitions over at once.
 */
public final class PolicyWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyWorker.class);
    /** Prompts may ask for at most this many samples; more is dead-lettered as a mistake. */
    public static final int MAX_SAMPLES_PER_PROMPT = PromptReader.MAX_SAMPLES_PER_PROMPT;
    /**
     * Batches the sampler holds while the oldest one is being committed: one sampling and one queued, so the
     * sampler goes from batch to batch without waiting for this thread to wake up (which, on a busy machine, takes
     * milliseconds). More would only hold prompts back from other workers.
     */
    private static final int SAMPLING_AHEAD = 2;
    /**
     * {@code session.timeout.ms} of the worker's consumer unless the settings give one (Kafka's default is 45 s): how
     * long a dead worker that is not restarted keeps its partitions. Shorter hands them over sooner; longer lets a
     * live worker ride out a stall of its heartbeat thread (CPU starvation, a long GC pause, a broker failover)
     * without a rebalance. A restarted worker does not wait for it (static membership).
     */
    public static final int DEFAULT_SESSION_TIMEOUT_MS = 15_000;

    private final WorkerConfig config;
    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final PolicyFollower follower;
    private final WorkerHooks hooks;
    private final WorkerMetrics metrics;
    private final PolicySwapper swapper;
    private final PromptReader reader;
    private final GenerationRecords records;
    private final AtomicLong currentVersion = new AtomicLong(-1);
    private final AtomicLong generations = new AtomicLong();
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final PromptQueue queued = new PromptQueue();

    private volatile boolean stopRequested;
    private volatile long stopDeadlineNanos = Long.MAX_VALUE;
    private volatile Throwable failure;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    /** Whether the consumer holds a group assignment (possibly empty: more workers than partitions). */
    private volatile boolean assigned;
    private final MeterRegistry meters;
    /** Tells the sampler thread to stop between sampling calls (the worker is ending). */
    private volatile boolean samplerCancelled;
    /**
     * Batches handed to the sampler after the one being committed, oldest first, at most {@link #SAMPLING_AHEAD};
     * only the worker thread touches it.
     */
    private InOrderPipeline<PromptBatch, SampledBatch> sampling;
    /** The batch whose samples are back and whose transaction is next; only the worker thread touches it. */
    private PromptBatch committing;
    private Thread thread;

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
        this.meters = meters;
        this.metrics = new WorkerMetrics(meters, config.policyName(), config.workerId(), currentVersion);
        this.swapper = new PolicySwapper(follower, config.workerId(), config.policyName(), currentVersion,
                metrics.swapTimer(), metrics.swapRefusedCounter());
        this.reader = new PromptReader(topics.prompts());
        this.records = new GenerationRecords(config.policyName(), config.workerId());
        config.groupInstanceId();  // a bad id is a configuration error now, not a failed worker later
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
        return metrics.transactionsCommitted();
    }

    /** Transactions aborted so far. */
    public long transactionsAborted() {
        return metrics.transactionsAborted();
    }

    /** Ready, first part: the worker's consumer has an open connection to a broker now. */
    public boolean connected() {
        KafkaConsumer<byte[], byte[]> c = consumer;
        return c != null && BrokerConnection.isUp(c.metrics());
    }

    /**
     * Ready, second part: the worker is a member of the group with an assignment (an empty one when the group has
     * more workers than {@code prompts} partitions: it stands by).
     */
    public boolean assigned() {
        return assigned && consumer != null;
    }

    /** Ready, third part: a policy version is loaded and sampling. */
    public boolean modelLoaded() {
        return currentVersion.get() >= 0 && stopped.getCount() > 0;
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
        PolicyModel policy = null;
        PromptEncoder encoder = null;
        KafkaProducer<byte[], byte[]> producer = null;
        KafkaClientMetrics producerMetrics = null;
        KafkaClientMetrics consumerMetrics = null;
        try {
            VerifiedPolicy initial = follower.awaitFirst(Duration.ofMillis(config.policyWaitMs()));
            if (stopRequested) {
                return;
            }
            policy = PolicyLoader.fromCheckpoint(initial.checkpoint());
            encoder = PromptEncoder.forPolicy(initial.checkpoint(), policy.config().contextLength(),
                    config.maxNewTokens());
            currentVersion.set(initial.version());
            LOG.info("worker {} serves policy '{}' version {}", config.workerId(), config.policyName(),
                    initial.version());
            producer = new KafkaProducer<>(producerProperties(), new ByteArraySerializer(), new ByteArraySerializer());
            producer.initTransactions();
            producerMetrics = new KafkaClientMetrics(producer);
            producerMetrics.bindTo(meters);
            consumer = new KafkaConsumer<>(consumerProperties(config, clientProperties), new ByteArrayDeserializer(),
                    new ByteArrayDeserializer());
            consumerMetrics = new KafkaClientMetrics(consumer);
            consumerMetrics.bindTo(meters);
            consumer.subscribe(List.of(topics.prompts().name()), new Rebalance());
            sampling = InOrderPipeline.onThread("policy-sampler-" + config.workerId(), SAMPLING_AHEAD);
            loop(policy, encoder, new BatchTransaction(config.workerId(), topics, follower, records, metrics, producer,
                    this::abortRequested, sent -> hooks.beforeCommit(this, sent)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException | Error e) {
            failure = e;
            LOG.error("worker {} stopped on an error", config.workerId(), e);
        } finally {
            ready.countDown();
            boolean samplerIdle = stopSampler();
            assigned = false;
            if (consumerMetrics != null) {
                consumerMetrics.close();
            }
            if (producerMetrics != null) {
                producerMetrics.close();
            }
            KafkaConsumer<byte[], byte[]> c = consumer;
            consumer = null;  // close() must not wake up a closed consumer
            if (c != null) {
                try {
                    // A static member stays in the group after a plain close; leaving hands its partitions over now.
                    c.close(CloseOptions.groupMembershipOperation(GroupMembershipOperation.LEAVE_GROUP)
                            .withTimeout(Duration.ofSeconds(5)));
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
            if (policy != null && samplerIdle) {
                policy.close();  // never under a sampling call still running: that would free its weights
            }
            if (encoder != null && samplerIdle) {
                encoder.close();
            }
            stopped.countDown();
            LOG.info("worker {} stopped: {} generations in {} committed and {} aborted transactions",
                    config.workerId(), generations.get(), transactionsCommitted(), transactionsAborted());
        }
    }

    /** Cancels what the sampler has not started and waits for the call in progress; false if it did not end. */
    private boolean stopSampler() {
        if (sampling == null) {
            return true;
        }
        samplerCancelled = true;
        try {
            if (sampling.stop(Duration.ofSeconds(60))) {
                return true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.warn("worker {}: the sampler did not finish its call within 60 s; leaving the policy open",
                config.workerId());
        return false;
    }

    /**
     * The consume-sample-commit loop. This thread owns the consumer and the transactions; the sampler thread only
     * samples. Each turn: wait for the oldest batch to come back from the sampler, top up the prompts with a poll
     * (where rebalances happen), keep the sampler {@link #SAMPLING_AHEAD} batches ahead (one sampling, one queued, so
     * it never waits for this thread between batches), and only then send and commit the oldest batch, so the
     * transaction overlaps the next batches' sampling. Transactions commit one at a time in poll order; the sampler
     * is idle exactly when nothing is in flight.
     */
    private void loop(PolicyModel policy, PromptEncoder encoder, BatchTransaction transaction)
            throws InterruptedException {
        TokenSampler sampler = PolicyLoader.sampler(policy);
        long maxWaitNanos = config.batchMaxWaitMs() * 1_000_000L;
        boolean signalled = false;
        while (true) {
            PromptBatch head = null;
            SampledBatch sampled = null;
            if (!sampling.isEmpty()) {
                head = sampling.oldest();
                committing = head;
                sampled = awaitSampling();
                if (sampled == null) {  // shutdown past the grace period stopped the sampler between calls
                    int dropped = head.prompts().size() + prompts(sampling.tags());
                    discardAll();
                    LOG.info("worker {} dropped {} prompts mid-sampling (shutting down past the grace period); "
                            + "they go back to the group", config.workerId(), dropped);
                    break;
                }
                hooks.afterSampling(this, head.prompts().size());
            } else if (stopRequested) {
                break;
            } else {
                swapper.followNewest(policy);  // the sampler is idle: an idle worker follows new versions too
            }

            if (!stopRequested && queued.rows() < config.batchMaxSize() * SAMPLING_AHEAD) {
                long waitMs = 0;  // with a batch to commit, take only what has arrived
                if (head == null) {
                    waitMs = queued.isEmpty() ? 100
                            : Math.max(0, (queued.firstArrivedAt() + maxWaitNanos - System.nanoTime()) / 1_000_000L);
                }
                try {
                    Set<TopicPartition> readAgain = new HashSet<>();
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(waitMs))) {
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        if (readAgain.contains(tp)) {
                            continue;
                        }
                        PolledPrompt prompt = reader.read(r);
                        if (prompt == null) {
                            // The schema registry is down (after the deserializer's own retries): read the record
                            // and the rest of its partition again at the next poll; nothing is dead-lettered for it.
                            LOG.warn("worker {}: schema registry unavailable while reading {}@{}; reading it again",
                                    config.workerId(), tp, r.offset());
                            consumer.seek(tp, r.offset());
                            readAgain.add(tp);
                            continue;
                        }
                        queued.add(prompt, System.nanoTime());
                    }
                } catch (WakeupException e) {
                    // close() woke the poll up; stopRequested decides below
                }
                if (!signalled) {
                    ready.countDown();
                    signalled = true;
                }
            }

            while (!stopRequested && !sampling.isFull()
                    && queued.batchDue(config.batchMaxSize(), maxWaitNanos, System.nanoTime())) {
                PromptBatch next = PromptBatch.prepare(queued.takeBatch(config.batchMaxSize()), encoder,
                        config.seed());
                queued.restartClock(System.nanoTime());
                sampling.submit(next, () -> sampleBatch(next, sampler, policy, encoder));
            }

            if (head != null) {
                int sent = transaction.commit(head, sampled, encoder, consumer.groupMetadata());
                if (sent >= 0) {
                    committing = null;
                    generations.addAndGet(sent);
                } else {
                    // Aborted: the batches behind it hold later prompts and must not be committed either.
                    metrics.discarded(prompts(sampling.tags()));
                    discardAll();
                }
            }
        }
    }

    private static int prompts(List<PromptBatch> batches) {
        return batches.stream().mapToInt(b -> b.prompts().size()).sum();
    }

    /**
     * Throws away the batch being committed and every batch in flight: waits until the sampler is idle, then seeks
     * back to the first of their prompts (and of the prompts polled after them, which are dropped too) so they are
     * consumed again in order.
     */
    private void discardAll() throws InterruptedException {
        List<PromptBatch> undone = new ArrayList<>();
        if (committing != null) {
            undone.add(committing);
            committing = null;
        }
        undone.addAll(sampling.discardAll());
        rewind(undone);
    }

    /**
     * Takes the oldest batch's samples, waiting for them; null if the sampler stopped it because shutdown ran past
     * the grace period. A sampling error stops the worker; nothing of the batch was sent, so there is no transaction
     * to abort.
     */
    private SampledBatch awaitSampling() throws InterruptedException {
        try {
            return sampling.takeOldest();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BatchTransaction.ShutdownAbort) {
                return null;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("worker " + config.workerId() + ": sampling failed", e.getCause());
        }
    }

    /**
     * On the sampler thread: swaps in a newer version first (between batches, never inside one), then samples the
     * rows in calls of at most {@link WorkerConfig#batchMaxSize()}.
     */
    private SampledBatch sampleBatch(PromptBatch batch, TokenSampler sampler, PolicyModel policy,
                                     PromptEncoder encoder) {
        swapper.followNewest(policy);
        long version = currentVersion.get();
        List<SampledBatch.Chunk> chunks = new ArrayList<>();
        for (int from = 0, chunk = 0; from < batch.rows().size(); from += config.batchMaxSize(), chunk++) {
            if (abortRequested() || samplerCancelled) {
                throw new BatchTransaction.ShutdownAbort();
            }
            int to = Math.min(batch.rows().size(), from + config.batchMaxSize());
            int[][] prompts = new int[to - from][];
            for (int i = from; i < to; i++) {
                prompts[i - from] = batch.rows().get(i).tokens();
            }
            SamplingParams params = new SamplingParams(config.temperature(), config.topK(), config.topP(),
                    config.maxNewTokens(), encoder.eosId(), encoder.padId(), batch.seed() + chunk);
            Instant started = Instant.now();
            long t0 = System.nanoTime();
            SampleResult result = sampler.sample(prompts, params, encoder.stopIds());
            metrics.sampled(System.nanoTime() - t0);
            chunks.add(new SampledBatch.Chunk(from, params, result, started, Instant.now()));
        }
        return new SampledBatch(version, chunks);
    }

    private boolean abortRequested() {
        return stopRequested && System.nanoTime() > stopDeadlineNanos;
    }

    /**
     * Seeks back to the first offset of the undone batches and of the prompts polled after them (which are dropped
     * too), so they are consumed again in order; partitions no longer assigned are left to their new owner.
     */
    private void rewind(List<PromptBatch> undone) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (PromptBatch b : undone) {
            for (PolledPrompt p : b.prompts()) {
                if (!b.isRevoked(p.partition())) {  // a revoked partition's position was reset by the group
                    first.merge(p.partition(), p.offset(), Math::min);
                }
            }
        }
        queued.drainOffsetsInto(first);
        Set<TopicPartition> assigned = consumer.assignment();
        first.forEach((tp, offset) -> {
            if (assigned.contains(tp)) {
                consumer.seek(tp, offset);
            }
        });
    }

    /** The consumer's settings: the client settings given, with the worker's group, membership and isolation. */
    static Map<String, Object> consumerProperties(WorkerConfig config, Map<String, Object> clientProperties) {
        Map<String, Object> props = ClientSettings.consumer(clientProperties);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        // One id per worker: a group.instance.id in shared settings would fence the process's other workers.
        props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.groupInstanceId().ifPresent(id -> props.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, id));
        props.putIfAbsent(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, DEFAULT_SESSION_TIMEOUT_MS);
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
            // Their samples for these partitions will not be committed.
            if (committing != null) {
                committing.revoke(revoked);
            }
            if (sampling != null) {
                for (PromptBatch b : sampling.tags()) {
                    b.revoke(revoked);
                }
            }
            queued.dropPartitions(revoked);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            assigned = false;
            onPartitionsRevoked(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            assigned = true;
            LOG.info("worker {} now consumes {}", config.workerId(), partitions);
        }
    }
}
