package io.streamrlhf.producer.swap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.DeadLettersSent;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows one policy's versions on {@code policy.versions} for every worker of a process.
 *
 * <p>On {@link #start()} it reads the topic from the beginning (compacted: the newest version per name survives)
 * and, once caught up, takes the newest version whose checkpoint verifies, so a worker that starts late begins
 * with the newest version. Afterwards each newer version is fetched and verified on this follower's own thread,
 * so generation never waits for a download; workers pick up {@link #newest()} between batches.
 *
 * <p>Versions only move forward: a version at or below the newest accepted one is ignored. A checkpoint that
 * fails verification is refused: logged at WARN, counted ({@code rlhf.policy.checkpoint.refused}), queued as a
 * {@code worker/checkpoint_refused} {@link MetricEvent}, and never retried; the current version keeps serving. An
 * unsigned or wrongly signed version (when verification keys are configured) and a URI outside the allowed topic or
 * roots are refused the same way, before anything is downloaded.
 *
 * <p>A record that cannot be read (corrupt bytes, an unknown schema id, another contract) goes to
 * {@code policy.versions.dlq} with its original bytes and {@link DlqHeaders}, is counted
 * ({@code rlhf.policy.versions.dead.lettered}), and the follower goes on with the next record. A schema-registry
 * outage is no bad record: the follower reads the record again after a back-off.
 */
public final class PolicyFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyFollower.class);
    /** Metric name of a refused checkpoint, on the {@code metrics} topic. */
    public static final String REFUSED_METRIC = "worker/checkpoint_refused";
    /** Metric name of an accepted version, on the {@code metrics} topic. */
    public static final String ACCEPTED_METRIC = "worker/policy_version";

    /** Longest wait before reading a record again after a schema-registry outage. */
    private static final Duration MAX_OUTAGE_BACKOFF = Duration.ofSeconds(5);

    private final TopicSpec<String, PolicyVersion> spec;
    private final TopicSpec<byte[], byte[]> dlq;
    private final Supplier<Consumer<String, byte[]>> consumers;
    private final Supplier<Producer<byte[], byte[]>> deadLetterProducers;
    private final Counter deadLetteredCounter;
    private final String policyName;
    private final CheckpointFetcher fetcher;
    private final Counter refusedCounter;
    private final Counter acceptedCounter;
    private final AtomicReference<VerifiedPolicy> newest = new AtomicReference<>();
    private final Set<Long> refused = new HashSet<>();
    private final ConcurrentLinkedQueue<MetricEvent> metricEvents = new ConcurrentLinkedQueue<>();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final CountDownLatch firstAccepted = new CountDownLatch(1);
    private volatile boolean running;
    private volatile RuntimeException failure;
    private Consumer<String, byte[]> consumer;
    private Producer<byte[], byte[]> deadLetters;
    private final Supplier<DeadLettersSent> sentBeforeReader;
    private DeadLettersSent sentBefore = DeadLettersSent.none();
    private Deserializer<PolicyVersion> values;
    private long outageBackoffMs;
    private Thread thread;

    /**
     * @param topics           the topic catalog
     * @param clientProperties Kafka client settings (consumer keys are taken)
     * @param policyName       the policy to follow (key of its records)
     * @param fetcher          fetches and verifies checkpoints
     * @param meters           where the accepted/refused counters go
     */
    public PolicyFollower(Topics topics, Map<String, Object> clientProperties, String policyName,
                          CheckpointFetcher fetcher, MeterRegistry meters) {
        this(topics, policyName, fetcher, meters,
                () -> new KafkaConsumer<>(consumerProperties(clientProperties), new StringDeserializer(),
                        new ByteArrayDeserializer()),
                () -> new KafkaProducer<>(deadLetterProperties(clientProperties), new ByteArraySerializer(),
                        new ByteArraySerializer()),
                () -> DeadLettersSent.read(clientProperties, topics.dlq(topics.policyVersions()).name(),
                        topics.policyVersions().name(), component(policyName), Duration.ofSeconds(30)));
    }

    /** With the clients made by these factories (tests pass fakes); the producer is made at the first dead letter. */
    PolicyFollower(Topics topics, String policyName, CheckpointFetcher fetcher, MeterRegistry meters,
                   Supplier<Consumer<String, byte[]>> consumers,
                   Supplier<Producer<byte[], byte[]>> deadLetterProducers) {
        this(topics, policyName, fetcher, meters, consumers, deadLetterProducers, DeadLettersSent::none);
    }

    /**
     * With the clients made by these factories and {@code sentBefore} reading the dead letters earlier followers of
     * this policy sent (read once, at start: the follower reads {@code policy.versions} from its beginning each time,
     * and must not dead-letter the same record again).
     */
    PolicyFollower(Topics topics, String policyName, CheckpointFetcher fetcher, MeterRegistry meters,
                   Supplier<Consumer<String, byte[]>> consumers,
                   Supplier<Producer<byte[], byte[]>> deadLetterProducers, Supplier<DeadLettersSent> sentBefore) {
        this.sentBeforeReader = sentBefore;
        this.spec = topics.policyVersions();
        this.dlq = topics.dlq(spec);
        this.policyName = policyName;
        this.fetcher = fetcher;
        this.consumers = consumers;
        this.deadLetterProducers = deadLetterProducers;
        this.refusedCounter = Counter.builder("rlhf.policy.checkpoint.refused").tag("policy", policyName)
                .description("Published checkpoints refused because they failed verification").register(meters);
        this.acceptedCounter = Counter.builder("rlhf.policy.checkpoint.accepted").tag("policy", policyName)
                .description("Published checkpoints fetched and verified").register(meters);
        this.deadLetteredCounter = Counter.builder("rlhf.policy.versions.dead.lettered").tag("policy", policyName)
                .description("Unreadable policy.versions records sent to the dead-letter topic").register(meters);
    }

    /** The {@code dlq.component} of this policy's followers. */
    private static String component(String policyName) {
        return "worker-" + policyName;
    }

    private static Map<String, Object> consumerProperties(Map<String, Object> clientProperties) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return props;
    }

    private static Map<String, Object> deadLetterProperties(Map<String, Object> clientProperties) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ProducerConfig.configNames().contains(k) && !ProducerConfig.TRANSACTIONAL_ID_CONFIG.equals(k)) {
                props.put(k, v);
            }
        });
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return props;
    }

    /**
     * A follower reading {@code kafka:} checkpoints through the same cluster, trusting the signing keys of
     * {@code versions.verify.keys} and the checkpoint locations of {@code checkpoints.allowed.roots} in
     * {@code clientProperties}.
     */
    public static PolicyFollower create(Topics topics, Map<String, Object> clientProperties, String policyName,
                                        MeterRegistry meters) {
        VersionVerifier verifier = VersionSigningConfig.verifier(clientProperties);
        if (verifier.enabled()) {
            LOG.info("policy '{}': only versions signed by keys {} are loaded", policyName, verifier.keyIds());
        }
        return new PolicyFollower(topics, clientProperties, policyName,
                new CheckpointFetcher(new KafkaChunkSource(clientProperties, Duration.ofSeconds(30)), verifier,
                        CheckpointUris.from(topics.checkpoints().name(), clientProperties)), meters);
    }

    /** Starts following on a daemon thread named after the policy. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("PolicyFollower for " + policyName + " already started");
        }
        consumer = consumers.get();
        values = spec.valueDeserializer();
        running = true;
        thread = new Thread(this::follow, "policy-follower-" + policyName);
        thread.setDaemon(true);
        thread.start();
    }

    /** The newest verified version, once there is one. */
    public Optional<VerifiedPolicy> newest() {
        return Optional.ofNullable(newest.get());
    }

    /**
     * Waits until a verified version exists (the newest one published, once caught up).
     *
     * @throws IllegalStateException when none arrives within {@code timeout} or the follower failed
     */
    public VerifiedPolicy awaitFirst(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!firstAccepted.await(Math.min(10_000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)),
                TimeUnit.MILLISECONDS)) {
            if (failure != null) {
                throw new IllegalStateException("following " + spec.name() + " failed: " + failure.getMessage(),
                        failure);
            }
            if (System.nanoTime() >= deadline) {
                throw new IllegalStateException("no verified version of policy '" + policyName + "' on "
                        + spec.name() + " within " + timeout + (refused.isEmpty() ? ""
                        : " (refused versions: " + refused + ")")
                        + "; publish one (the learner does) or start the worker with a bootstrap checkpoint");
            }
            LOG.info("waiting for a version of policy '{}' on {}", policyName, spec.name());
        }
        return newest.get();
    }

    /** Whether the follower has read {@code policy.versions} up to where it was when it started. */
    public boolean caughtUp() {
        return caughtUp.getCount() == 0;
    }

    /** How many published checkpoints were refused so far. */
    public long refusedCount() {
        return (long) refusedCounter.count();
    }

    /** The versions refused so far. */
    public synchronized Set<Long> refusedVersions() {
        return Set.copyOf(refused);
    }

    /** Takes the metric events produced since the last call (a worker writes them in its next transaction). */
    public List<MetricEvent> drainMetricEvents() {
        List<MetricEvent> out = new ArrayList<>();
        MetricEvent e;
        while ((e = metricEvents.poll()) != null) {
            out.add(e);
        }
        return out;
    }

    /**
     * Offers a verified checkpoint as a version, e.g. a bootstrap checkpoint when nothing is published yet. It is
     * taken only when newer than the current one.
     */
    public boolean offer(String name, long version, Checkpoint checkpoint) {
        return accept(new VerifiedPolicy(name, version, checkpoint, Instant.now(), Instant.now()));
    }

    private void follow() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), Duration.ofSeconds(60)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + spec.name() + " does not exist; run 'rlhf topics create'");
            }
            try {
                sentBefore = sentBeforeReader.get();
            } catch (RuntimeException e) {
                LOG.warn("cannot read {} for the dead letters sent before ({}); an unreadable record may be "
                        + "dead-lettered again", dlq.name(), e.getMessage());
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<Published> backlog = new ArrayList<>();
            while (running && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                backlog.addAll(read(consumer.poll(Duration.ofMillis(200))));
            }
            catchUp(backlog);
            caughtUp.countDown();
            while (running) {
                for (Published r : read(consumer.poll(Duration.ofMillis(100)))) {
                    if (isNewer(r)) {
                        tryAccept(r);
                    }
                }
            }
        } catch (WakeupException e) {
            // close() woke the poll up
        } catch (RuntimeException e) {
            if (running) {
                failure = e;
                LOG.error("following {} for policy '{}' failed", spec.name(), policyName, e);
            }
        } finally {
            caughtUp.countDown();
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
            if (deadLetters != null) {
                deadLetters.close(Duration.ofSeconds(5));
            }
        }
    }

    /** A readable record of {@code policy.versions}: its key, value (null for a tombstone) and timestamp. */
    private record Published(String key, PolicyVersion value, long timestamp) {
    }

    /**
     * Decodes polled records in order. An unreadable one is dead-lettered and skipped; at a registry outage the
     * partition is sought back to the record, and the rest of it left for a later poll after a back-off.
     */
    private List<Published> read(Iterable<ConsumerRecord<String, byte[]>> records) {
        List<Published> out = new ArrayList<>();
        Set<TopicPartition> retry = new HashSet<>();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (retry.contains(tp)) {
                continue;
            }
            try {
                out.add(new Published(r.key(), values.deserialize(r.topic(), r.headers(), r.value()), r.timestamp()));
            } catch (RuntimeException e) {
                if (AvroSerdeException.isRegistryOutage(e)) {
                    LOG.warn("schema registry unavailable while reading {}@{}; reading it again later: {}", tp,
                            r.offset(), e.getMessage());
                    consumer.seek(tp, r.offset());
                    retry.add(tp);
                    continue;
                }
                if (sentBefore.contains(r.partition(), r.offset())) {
                    LOG.info("unreadable record {}@{} of {} was dead-lettered before: {}", tp, r.offset(), spec.name(),
                            e.getMessage());
                    continue;
                }
                LOG.warn("unreadable record {}@{} of {} sent to {}: {}", tp, r.offset(), spec.name(), dlq.name(),
                        e.getMessage());
                if (deadLetters == null) {
                    deadLetters = deadLetterProducers.get();
                }
                sent.add(deadLetters.send(DlqHeaders.deadLetter(dlq.name(), asBytes(r), e, component(policyName))));
                sentBefore.add(r.partition(), r.offset());
                deadLetteredCounter.increment();
            }
        }
        if (!sent.isEmpty()) {
            deadLetters.flush();
            for (Future<RecordMetadata> f : sent) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while dead-lettering to " + dlq.name(), e);
                } catch (ExecutionException e) {
                    // Never dropped silently: without its dead letter the follower stops (and says why).
                    throw new IllegalStateException("cannot dead-letter to " + dlq.name() + ": "
                            + e.getCause().getMessage(), e.getCause());
                }
            }
        }
        if (retry.isEmpty()) {
            outageBackoffMs = 0;
        } else {
            outageBackoffMs = Math.min(Math.max(100, outageBackoffMs * 2), MAX_OUTAGE_BACKOFF.toMillis());
            try {
                Thread.sleep(outageBackoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running = false;
            }
        }
        return out;
    }

    private static ConsumerRecord<byte[], byte[]> asBytes(ConsumerRecord<String, byte[]> r) {
        byte[] key = r.key() == null ? null : r.key().getBytes(StandardCharsets.UTF_8);
        return new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), key, r.value());
    }

    /** How many unreadable records were dead-lettered so far. */
    public long deadLetteredCount() {
        return (long) deadLetteredCounter.count();
    }

    /** Newest first: the first one that verifies becomes the starting version. */
    private void catchUp(List<Published> backlog) {
        List<Published> mine = new ArrayList<>();
        for (Published r : backlog) {
            if (isNewer(r)) {
                mine.add(r);
            }
        }
        mine.sort(Comparator.comparingLong((Published r) -> r.value().getVersion())
                .reversed());
        Set<Long> tried = new HashSet<>();
        for (Published r : mine) {
            if (tried.add(r.value().getVersion()) && tryAccept(r)) {
                return;
            }
        }
    }

    private boolean isNewer(Published r) {
        if (r.value() == null || !policyName.equals(r.key()) || !policyName.equals(r.value().getName())) {
            return false;
        }
        VerifiedPolicy current = newest.get();
        long v = r.value().getVersion();
        synchronized (this) {
            if (refused.contains(v)) {
                return false;
            }
        }
        return current == null || v > current.version();
    }

    private boolean tryAccept(Published r) {
        PolicyVersion pv = r.value();
        try {
            Checkpoint checkpoint = fetcher.fetch(pv);
            return accept(new VerifiedPolicy(policyName, pv.getVersion(), checkpoint,
                    Instant.ofEpochMilli(r.timestamp()), Instant.now()));
        } catch (CheckpointRefusedException e) {
            synchronized (this) {
                refused.add(pv.getVersion());
            }
            refusedCounter.increment();
            VerifiedPolicy current = newest.get();
            LOG.warn("{}; still serving version {}", e.getMessage(), current == null ? "none" : current.version());
            metricEvents.add(event(REFUSED_METRIC, 1.0, pv.getVersion(), Map.of("reason", shorten(e.getMessage()))));
            return false;
        }
    }

    private synchronized boolean accept(VerifiedPolicy candidate) {
        VerifiedPolicy current = newest.get();
        if (current != null && candidate.version() <= current.version()) {
            return false;  // never go back
        }
        newest.set(candidate);
        acceptedCounter.increment();
        metricEvents.add(event(ACCEPTED_METRIC, candidate.version(), candidate.version(), Map.of()));
        LOG.info("policy '{}' version {} verified and ready to swap in", policyName, candidate.version());
        firstAccepted.countDown();
        return true;
    }

    private MetricEvent event(String name, double value, long version, Map<String, String> tags) {
        Map<String, String> all = new HashMap<>(tags);
        all.put("policy", policyName);
        all.put("version", Long.toString(version));
        return MetricEvent.newBuilder().setComponent("worker-" + policyName).setName(name).setValue(value)
                .setStep(version).setTags(all).setTimestamp(Instant.now()).build();
    }

    private static String shorten(String s) {
        return s == null ? "" : s.length() <= 300 ? s : s.substring(0, 300);
    }

    @Override
    public void close() {
        running = false;
        Consumer<String, byte[]> c;
        Thread t;
        synchronized (this) {
            c = consumer;
            t = thread;
        }
        if (c != null) {
            c.wakeup();
        }
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
