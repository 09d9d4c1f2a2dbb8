package io.streamrlhf.evaluator.live;

import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.schemas.AvroArrays;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the loop from the outside, the way a dashboard would: tails {@code scored}, {@code metrics},
 * {@code policy.versions}, {@code rm.versions} and {@code preferences} ({@code read_committed}, no consumer group)
 * and keeps what the progress line, the summary and the report show. The gold reward of every scored generation is
 * computed here from its tokens (the hidden reward no component sees). Thread-safe: one thread polls, any thread
 * reads {@link #snapshot()}.
 */
public final class LoopMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LoopMonitor.class);
    /** Header the online reward-model trainer puts on pairs it writes back (not new preferences). */
    private static final String ORIGIN_HEADER = "rlhf.origin";

    private final Topics topics;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final GoldReward gold = SyntheticWorld.standard().gold();
    private final int window;
    private final int targetWindow;
    private final long startNanos;
    private final Double target;
    private final String learnerComponent;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    // Guarded by this.
    private final TreeMap<Long, VersionStats> byVersion = new TreeMap<>();
    private final ArrayDeque<Double> recentGold = new ArrayDeque<>();
    private final ArrayDeque<Double> targetGold = new ArrayDeque<>();
    private final TreeMap<Long, Map<String, Double>> learnerMetrics = new TreeMap<>();
    private final TreeMap<Long, Double> publishedAt = new TreeMap<>();
    private long scored;
    private long preferences;
    private long newestPolicy = -1;
    private long newestRm = -1;
    private long rmVersionsScoring = -1;
    private double targetReachedAt = Double.NaN;
    private long targetVersion = -1;

    /**
     * @param window       rolling window of scored generations the "current gold" is averaged over
     * @param targetWindow the (longer) window whose mean must reach {@code target}: one learner batch is too noisy
     *                     a measure to time a crossing by
     * @param target       gold reward whose first crossing by the rolling mean is timed; null for none
     * @param learnerComponent the {@code component} of the learner's events on {@code metrics} (the workers report
     *                     there too)
     */
    public LoopMonitor(Topics topics, Map<String, Object> clientProperties, int window, int targetWindow, Double target,
                       String learnerComponent) {
        this.topics = topics;
        this.learnerComponent = learnerComponent;
        this.window = window;
        this.targetWindow = targetWindow;
        this.target = target;
        this.startNanos = System.nanoTime();
        Map<String, Object> props = new HashMap<>();
        // The cluster and, on a secure one, the credentials; the monitor assigns partitions and joins no group.
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k) && v != null) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "rlhf-demo-monitor");
        this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::poll, "demo-monitor");
        thread.setDaemon(true);
    }

    /** Assigns every watched partition from its beginning and starts polling. */
    public LoopMonitor start() {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(topics.scored().name(), topics.metrics().name(), topics.policyVersions().name(),
                topics.rmVersions().name(), topics.preferences().name())) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread.start();
        return this;
    }

    private void poll() {
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        accept(r);
                    }
                }
            }
        } catch (WakeupException e) {
            // close() ends the loop
        } catch (Throwable t) {
            if (running) {
                failure = t;
                LOG.error("demo monitor failed", t);
            }
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        String topic = r.topic();
        double now = elapsedSeconds();
        if (topic.equals(topics.scored().name())) {
            ScoredGeneration s = topics.scored().valueDeserializer().deserialize(topic, r.headers(), r.value());
            onScored(s, now);
        } else if (topic.equals(topics.metrics().name())) {
            MetricEvent m = topics.metrics().valueDeserializer().deserialize(topic, r.headers(), r.value());
            // The workers report here too (their step is a policy version); only the learner's steps are updates.
            if (learnerComponent.equals(m.getComponent())) {
                synchronized (this) {
                    learnerMetrics.computeIfAbsent(m.getStep(), k -> new HashMap<>()).put(m.getName(), m.getValue());
                }
            }
        } else if (topic.equals(topics.policyVersions().name())) {
            PolicyVersion v = topics.policyVersions().valueDeserializer().deserialize(topic, r.headers(), r.value());
            synchronized (this) {
                publishedAt.putIfAbsent(v.getVersion(), now);
                newestPolicy = Math.max(newestPolicy, v.getVersion());
            }
        } else if (topic.equals(topics.rmVersions().name())) {
            RewardModelVersion v = topics.rmVersions().valueDeserializer().deserialize(topic, r.headers(), r.value());
            synchronized (this) {
                newestRm = Math.max(newestRm, v.getVersion());
            }
        } else if (topic.equals(topics.preferences().name())) {
            Header origin = r.headers().lastHeader(ORIGIN_HEADER);
            if (origin == null) {
                synchronized (this) {
                    preferences++;
                }
            }
        }
    }

    private void onScored(ScoredGeneration s, double now) {
        Generation g = s.getGeneration();
        double goldTotal = gold.scoreIds(AvroArrays.toInts(g.getPromptTokens()),
                AvroArrays.toInts(g.getResponseTokens())).total();
        double raw = 0;
        long rmVersion = -1;
        for (SourceScore score : s.getScores()) {
            raw += score.getRaw() / s.getScores().size();
            ModelRef model = score.getModel();
            if (model != null) {
                rmVersion = Math.max(rmVersion, model.getVersion());
            }
        }
        synchronized (this) {
            scored++;
            rmVersionsScoring = Math.max(rmVersionsScoring, rmVersion);
            VersionStats stats = byVersion.computeIfAbsent(g.getPolicyVersion(), v -> new VersionStats(now));
            stats.add(goldTotal, raw, s.getReward(), g.getResponseTokens().size());
            recentGold.addLast(goldTotal);
            while (recentGold.size() > window) {
                recentGold.removeFirst();
            }
            targetGold.addLast(goldTotal);
            while (targetGold.size() > targetWindow) {
                targetGold.removeFirst();
            }
            if (target != null && Double.isNaN(targetReachedAt) && targetGold.size() >= targetWindow
                    && mean(targetGold) >= target) {
                targetReachedAt = now;
                targetVersion = g.getPolicyVersion();
            }
        }
    }

    /** Seconds since this monitor was made (the loop's clock). */
    public double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    /** The monitor's own failure, if its polling thread died. */
    public Throwable failure() {
        return failure;
    }

    /** Every metric of every learner update seen so far, by update: a copy. */
    public synchronized SortedMap<Long, Map<String, Double>> learnerMetrics() {
        TreeMap<Long, Map<String, Double>> copy = new TreeMap<>();
        learnerMetrics.forEach((step, m) -> copy.put(step, Map.copyOf(m)));
        return copy;
    }

    /** What has been seen so far. */
    public synchronized Snapshot snapshot() {
        Map<String, Double> latest = learnerMetrics.isEmpty() ? Map.of() : learnerMetrics.lastEntry().getValue();
        List<VersionPoint> versions = new ArrayList<>();
        byVersion.forEach((v, s) -> versions.add(new VersionPoint(v, s.count, s.goldSum / s.count,
                s.rawSum / s.count, s.rewardSum / s.count, s.tokenSum / (double) s.count, s.firstSeen)));
        List<UpdatePoint> updates = new ArrayList<>();
        learnerMetrics.forEach((step, m) -> updates.add(new UpdatePoint(step,
                m.getOrDefault("policy/kl_ref", Double.NaN), m.getOrDefault("reward/mean", Double.NaN),
                m.getOrDefault("data/staleness", Double.NaN), m.getOrDefault("losses/approx_kl", Double.NaN),
                m.getOrDefault("time/update_s", Double.NaN), m.getOrDefault("data/reference_given", Double.NaN))));
        return new Snapshot(elapsedSeconds(), scored, preferences, newestPolicy, newestRm, rmVersionsScoring,
                recentGold.isEmpty() ? Double.NaN : mean(recentGold), latest.getOrDefault("policy/kl_ref", Double.NaN),
                latest.getOrDefault("data/staleness", Double.NaN), List.copyOf(versions), List.copyOf(updates),
                new TreeMap<>(publishedAt), targetReachedAt, targetVersion);
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        consumer.close(Duration.ofSeconds(5));
    }

    private static double mean(ArrayDeque<Double> xs) {
        double s = 0;
        for (double x : xs) {
            s += x;
        }
        return s / xs.size();
    }

    /** Running sums of one policy version's scored generations. */
    private static final class VersionStats {
        final double firstSeen;
        long count;
        double goldSum;
        double rawSum;
        double rewardSum;
        long tokenSum;

        VersionStats(double firstSeen) {
            this.firstSeen = firstSeen;
        }

        void add(double g, double raw, double reward, int tokens) {
            count++;
            goldSum += g;
            rawSum += raw;
            rewardSum += reward;
            tokenSum += tokens;
        }
    }

    /**
     * One policy version's generations as scored.
     *
     * @param version   the policy version that generated them
     * @param count     how many were scored
     * @param gold      their mean gold reward
     * @param rawProxy  mean over generations of the mean raw score of the ensemble's members (the scoring RM version)
     * @param reward    mean final (normalised) reward the learner trained on
     * @param tokens    mean response length in tokens
     * @param firstSeen loop seconds when the first was scored
     */
    public record VersionPoint(long version, long count, double gold, double rawProxy, double reward, double tokens,
                        double firstSeen) {
    }

    /**
     * One learner update's metrics.
     *
     * @param step      the update
     * @param klRef     {@code policy/kl_ref}
     * @param reward    {@code reward/mean}
     * @param staleness {@code data/staleness}
     * @param approxKl  {@code losses/approx_kl}
     * @param seconds   {@code time/update_s}: the update's wall time on the learner's thread
     * @param referenceGiven {@code data/reference_given}: 1 when the reward stream's reference log-probs replaced the
     *                  learner's reference forward
     */
    public record UpdatePoint(long step, double klRef, double reward, double staleness, double approxKl, double seconds,
                       double referenceGiven) {

        /** An update whose reference log-probs are not known. */
        public UpdatePoint(long step, double klRef, double reward, double staleness, double approxKl, double seconds) {
            this(step, klRef, reward, staleness, approxKl, seconds, Double.NaN);
        }
    }

    /**
     * Everything seen, at one moment.
     *
     * @param seconds           loop seconds
     * @param scored            scored generations read
     * @param preferences       preference pairs from feedback (write-backs excluded)
     * @param newestPolicy      newest version on policy.versions (-1: none)
     * @param newestRm          newest version on rm.versions (-1: none)
     * @param rmScoring         newest reward-model version seen scoring
     * @param rollingGold       mean gold of the last window of scored generations
     * @param klRef             the learner's latest {@code policy/kl_ref}
     * @param staleness         the learner's latest {@code data/staleness}
     * @param versions          per policy version
     * @param updates           per learner update
     * @param publishedAt       loop seconds at which each policy version was seen published
     * @param targetReachedAt   loop seconds at which the rolling gold first reached the target (NaN: not yet)
     * @param targetVersion     policy version of the generation that completed that window (-1: not yet)
     */
    public record Snapshot(double seconds, long scored, long preferences, long newestPolicy, long newestRm, long rmScoring,
                    double rollingGold, double klRef, double staleness, List<VersionPoint> versions,
                    List<UpdatePoint> updates, TreeMap<Long, Double> publishedAt, double targetReachedAt,
                    long targetVersion) {

        /** Versions published (beyond the starting version 0) by the time the target was reached; -1 if it was not. */
        public long versionsPublishedAtTarget() {
            if (Double.isNaN(targetReachedAt)) {
                return -1;
            }
            return publishedAt.entrySet().stream().filter(e -> e.getKey() > 0 && e.getValue() <= targetReachedAt)
                    .count();
        }

        /** Versions published (beyond the starting version 0). */
        public long versionsPublished() {
            return publishedAt.keySet().stream().filter(v -> v > 0).count();
        }

        /** Distinct policy versions that generated scored records (workers picked them up). */
        public long versionsGenerating() {
            return versions.stream().filter(v -> v.version() > 0).count();
        }

        /** Mean gold of the newest versions' generations that add up to at least {@code n} samples. */
        public double goldOfNewest(int n) {
            long count = 0;
            double sum = 0;
            for (int i = versions.size() - 1; i >= 0 && count < n; i--) {
                count += versions.get(i).count();
                sum += versions.get(i).gold() * versions.get(i).count();
            }
            return count == 0 ? Double.NaN : sum / count;
        }
    }
}
