package io.streamrlhf.learner.lease;

import io.streamrlhf.learner.KafkaClients;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learner election: every learner of a policy consumes the one-partition lease topic in one consumer group, and
 * the member assigned partition 0 holds the lease (is the active learner); the others are standbys. A thread of its own
 * polls the group every {@value #POLL_MS} ms, so a training update of any length does not stall the heartbeat, and its
 * {@code max.poll.interval.ms} is the session timeout, so a learner that stops polling (a stalled or paused JVM) loses
 * the lease like a dead one. The sticky cooperative assignor keeps the lease where it is when standbys join or leave.
 *
 * <p>What the lease guarantees: a learner that gives the lease up in a rebalance (it is closing, or the group moves the
 * partition) stops training and closes its {@code scored} consumer before it rejoins, so its successor is assigned the
 * lease only after that ({@link #LearnerLease} {@code onRevoked} waits for it). What it cannot guarantee: a learner
 * that was presumed dead (session timeout) learns of it only when it polls again, after a successor may have started.
 * Such a zombie is stopped by fencing, not by the lease: the shared transactional.id and the checkpoint epochs.
 */
public final class LearnerLease implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LearnerLease.class);
    static final long POLL_MS = 200;
    /** The lease consumer's client id is this and the learner's pid. */
    static final String CLIENT_ID_PREFIX = "learner-lease-";

    private final TopicPartition partition;
    private final Runnable onRevoked;
    private final Runnable onLost;
    private final Thread thread;
    private final CountDownLatch acquired = new CountDownLatch(1);
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean held;
    private volatile boolean closing;
    /** Test hook: while set, the thread does not poll (as if the JVM were paused), so the lease is lost. */
    private volatile boolean frozen;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private volatile String member = "";

    /**
     * Joins the group and starts polling.
     *
     * @param topic            the lease topic
     * @param groupId          the lease group, one per policy
     * @param sessionTimeoutMs how long a silent leader keeps the lease
     * @param clientProperties Kafka client settings (bootstrap, security)
     * @param onRevoked        runs on the lease thread when the lease is given up in a rebalance; it should return
     *                         once training has stopped (it delays the successor)
     * @param onLost           runs on the lease thread when the lease was lost without a rebalance (presumed dead):
     *                         a successor may already be active, so it should stop training at once
     */
    public LearnerLease(String topic, String groupId, int sessionTimeoutMs, Map<String, Object> clientProperties,
                        Runnable onRevoked, Runnable onLost) {
        this.partition = new TopicPartition(topic, 0);
        this.onRevoked = onRevoked;
        this.onLost = onLost;
        Map<String, Object> props = consumerProperties(clientProperties, groupId, sessionTimeoutMs);
        this.thread = new Thread(() -> poll(props), "learner-lease");
        thread.setDaemon(true);
        thread.start();
    }

    /** The lease consumer's settings. */
    static Map<String, Object> consumerProperties(Map<String, Object> clientProperties, String groupId,
                                                  int sessionTimeoutMs) {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ConsumerConfig.configNames()));
        props.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        // The pid in the client id tells an operator (rlhf stack status) which process holds the lease.
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, CLIENT_ID_PREFIX + ProcessHandle.current().pid());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionTimeoutMs);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Math.max(100, sessionTimeoutMs / 5));
        // Polling is all this consumer does: missing polls for a session timeout means the process is stalled.
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, sessionTimeoutMs);
        props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, List.of(CooperativeStickyAssignor.class));
        return props;
    }

    private void poll(Map<String, Object> props) {
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            c.subscribe(List.of(partition.topic()), new Listener(c));
            while (!closing) {
                if (frozen) {
                    sleep();
                    continue;
                }
                try {
                    c.poll(Duration.ofMillis(POLL_MS));  // the partition is paused: no records, only the group
                } catch (WakeupException e) {
                    // closing
                }
            }
        } catch (RuntimeException e) {
            LOG.error("the learner lease failed; giving the lease up", e);
            if (held) {
                held = false;
                onLost.run();
            }
        } finally {
            closed.countDown();
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(POLL_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until this learner holds the lease (a standby waits here, heartbeating on the lease thread).
     *
     * @param stopped checked between waits: returns false once it is true
     * @return true when the lease is held
     */
    public boolean awaitHeld(BooleanSupplier stopped) throws InterruptedException {
        while (!stopped.getAsBoolean()) {
            if (acquired.await(POLL_MS, TimeUnit.MILLISECONDS) && held) {
                return true;
            }
            if (closed.getCount() == 0) {
                return false;
            }
        }
        return false;
    }

    /** The pid of the learner whose lease consumer has {@code clientId}, if it is a learner's. */
    public static Optional<Long> pidOf(String clientId) {
        if (clientId == null || !clientId.startsWith(CLIENT_ID_PREFIX)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(clientId.substring(CLIENT_ID_PREFIX.length())));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Whether this learner holds the lease now (as far as its last poll knows). */
    public boolean held() {
        return held;
    }

    /** This learner's member id in the lease group (empty before it joined). */
    public String member() {
        return member;
    }

    /**
     * Stops or resumes polling, as pausing the process (SIGSTOP) would: after the session timeout the group presumes
     * this learner dead. For tests of fencing.
     */
    public void freeze(boolean freeze) {
        this.frozen = freeze;
    }

    /** Leaves the group (a standby takes over at once) after {@code onRevoked} has run; waits up to 30 s. */
    @Override
    public void close() {
        closing = true;
        frozen = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            if (!closed.await(30, TimeUnit.SECONDS)) {
                LOG.warn("the learner lease did not close within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private final class Listener implements ConsumerRebalanceListener {
        private final KafkaConsumer<byte[], byte[]> consumer;

        Listener(KafkaConsumer<byte[], byte[]> consumer) {
            this.consumer = consumer;
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            member = consumer.groupMetadata().memberId();
            if (partitions.contains(partition)) {
                consumer.pause(List.of(partition));
                held = true;
                LOG.info("this learner holds the lease {} (member {}, generation {}): it is the active learner",
                        partition, member, consumer.groupMetadata().generationId());
                acquired.countDown();
            } else if (!held) {
                LOG.info("standing by: another learner holds the lease {} (member {})", partition, member);
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.contains(partition) && held) {
                held = false;
                LOG.info("the lease {} is being revoked: stopping training before the next learner starts",
                        partition);
                onRevoked.run();
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            if (partitions.contains(partition) && held) {
                held = false;
                LOG.warn("the lease {} was lost (this learner was presumed dead, a successor may already be active): "
                        + "stopping at once; fencing refuses whatever this learner still tries to publish", partition);
                onLost.run();
            }
        }
    }
}
