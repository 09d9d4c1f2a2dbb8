package io.streamrlhf.producer.worker;

import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.producer.swap.PolicyFollower;
import io.streamrlhf.schemas.avro.MetricEvent;
import io.streamrlhf.schemas.topics.DlqHeaders;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TransactionCommit;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A policy worker's transactions: each sampled batch is written with its transactional producer in one Kafka
 * transaction — the batch's generations, its dead-lettered prompts and the policy follower's metric events, then the
 * batch's prompt offsets — and committed, or aborted when it fails or shutdown runs past its grace period. Only the
 * worker's thread calls it, one batch at a time, in poll order.
 */
final class BatchTransaction {

    private static final Logger LOG = LoggerFactory.getLogger(BatchTransaction.class);

    private final String workerId;
    private final Topics topics;
    private final PolicyFollower follower;
    private final GenerationRecords records;
    private final WorkerMetrics metrics;
    private final KafkaProducer<byte[], byte[]> producer;
    private final BooleanSupplier shutdownPastGrace;
    private final IntConsumer beforeCommit;
    private long batches;

    /**
     * @param producer          the worker's transactional producer, transactions initialised
     * @param shutdownPastGrace whether shutdown has run past its grace period (the open transaction is then aborted)
     * @param beforeCommit      called with the generations sent, after the flush and before the offsets (tests)
     */
    BatchTransaction(String workerId, Topics topics, PolicyFollower follower, GenerationRecords records,
                     WorkerMetrics metrics, KafkaProducer<byte[], byte[]> producer, BooleanSupplier shutdownPastGrace,
                     IntConsumer beforeCommit) {
        this.workerId = workerId;
        this.topics = topics;
        this.follower = follower;
        this.records = records;
        this.metrics = metrics;
        this.producer = producer;
        this.shutdownPastGrace = shutdownPastGrace;
        this.beforeCommit = beforeCommit;
    }

    /**
     * One transaction: the batch's generations, dead letters and the follower's metric events, then the batch's
     * prompt offsets, then commit. Prompts of partitions revoked since they were polled are left out entirely (no
     * generations, no offset): their new owner consumes them again.
     *
     * @param group the worker's consumer group, whose offsets the transaction commits
     * @return the generations committed, or -1 if the transaction was aborted (the caller rewinds)
     * @throws KafkaException when the worker cannot go on (fenced, not authorised)
     */
    int commit(PromptBatch batch, SampledBatch sampled, PromptEncoder encoder, ConsumerGroupMetadata group) {
        List<PolledPrompt> kept = new ArrayList<>();
        for (PolledPrompt p : batch.prompts()) {
            if (!batch.isRevoked(p.partition())) {
                kept.add(p);
            }
        }
        if (kept.size() < batch.prompts().size()) {
            metrics.revoked(batch.prompts().size() - kept.size());
            LOG.info("worker {}: {} sampled prompt(s) of partitions {} revoked before their commit are left to the "
                    + "new owner", workerId, batch.prompts().size() - kept.size(), batch.revoked());
        }
        if (kept.isEmpty()) {
            return 0;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (PolledPrompt p : kept) {
            offsets.merge(p.partition(), new OffsetAndMetadata(p.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        int sent = 0;
        long started = System.nanoTime();
        producer.beginTransaction();
        try {
            for (PromptBatch.DeadLetter bad : batch.deadLetters()) {
                if (!batch.isRevoked(bad.prompt().partition())) {
                    sendToDlq(bad.prompt(), bad.error());
                }
            }
            for (SampledBatch.Chunk chunk : sampled.chunks()) {
                sent += send(batch, chunk, sampled.version(), encoder);
            }
            for (MetricEvent e : follower.drainMetricEvents()) {
                send(topics.metrics(), e.getComponent(), e);
            }
            producer.flush();
            beforeCommit.accept(sent);
            if (shutdownPastGrace.getAsBoolean()) {
                throw new ShutdownAbort();
            }
            producer.sendOffsetsToTransaction(offsets, group);
            // A timeout is retried, not aborted: the commit may already be under way (Kafka's own advice).
            TransactionCommit.commit(producer, "worker " + workerId + "'s batch of " + kept.size() + " prompts");
        } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                 | UnsupportedVersionException e) {
            // Not recoverable with this producer: another instance owns the transactional id, or the broker
            // refuses us. Stop; the open transaction is aborted by the broker or the new owner.
            throw e;
        } catch (ShutdownAbort e) {
            abort(batch, "shutting down past the grace period");
            return -1;
        } catch (KafkaException e) {
            LOG.warn("worker {}: transaction of {} prompts failed ({}); aborting, the prompts will be consumed "
                    + "again", workerId, kept.size(), e.toString());
            abort(batch, e.toString());
            return -1;
        } catch (RuntimeException e) {
            abort(batch, e.toString());
            throw e;
        }
        metrics.committed(sent, started, batch.preparedAt(), System.nanoTime());
        batches++;
        if (LOG.isDebugEnabled()) {
            LOG.debug("worker {} committed batch {}: {} prompts, {} generations, version {}", workerId,
                    batches, kept.size(), sent, sampled.version());
        }
        return sent;
    }

    /** Sends one sampling call's generations (except those of revoked partitions); returns how many. */
    private int send(PromptBatch batch, SampledBatch.Chunk chunk,
                     long version, PromptEncoder encoder) {
        SampleResult result = chunk.result();
        int sent = 0;
        for (int i = 0; i < result.batchSize(); i++) {
            PromptBatch.Row row = batch.rows().get(chunk.from() + i);
            if (batch.isRevoked(row.prompt().partition())) {
                continue;
            }
            send(topics.generations(), row.prompt().prompt().getPromptId(),
                    records.build(row, chunk, i, encoder.decode(result.tokens()[i]), version));
            sent++;
        }
        return sent;
    }

    private <V> void send(TopicSpec<String, V> spec, String key, V value) {
        byte[] k = spec.keySerializer().serialize(spec.name(), key);
        byte[] v = spec.valueSerializer().serialize(spec.name(), value);
        producer.send(new ProducerRecord<>(spec.name(), k, v));
    }

    private void sendToDlq(PolledPrompt p, Throwable error) {
        TopicSpec<byte[], byte[]> dlq = topics.dlq(topics.prompts());
        LOG.warn("worker {}: prompt at {}@{} dead-lettered to {}: {}", workerId, p.partition(), p.offset(),
                dlq.name(), error.getMessage());
        producer.send(new ProducerRecord<>(dlq.name(), null, null, p.key(), p.value(),
                DlqHeaders.describe(p.partition().topic(), p.partition().partition(), p.offset(), error,
                        "worker-" + workerId, Instant.now())));
        metrics.deadLettered(p.partition().topic(), error);
    }

    private void abort(PromptBatch batch, String why) {
        try {
            producer.abortTransaction();
        } catch (ProducerFencedException e) {
            throw e;
        } catch (KafkaException e) {
            LOG.warn("worker {}: aborting the transaction failed too: {}", workerId, e.toString());
        }
        metrics.aborted();
        LOG.info("worker {} aborted a transaction of {} prompts ({})", workerId, batch.prompts().size(), why);
    }

    /** Unwinds a transaction (or a sampling call) that shutdown asked to abort. */
    static final class ShutdownAbort extends RuntimeException {
        ShutdownAbort() {
            super("shutdown", null, false, false);
        }
    }
}
