package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.TopicSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Joins each feedback label with the generations it names (looked up in the window store
 * {@link GenerationWindowWriter} fills, within the join window of the feedback's timestamp) and forwards the
 * resulting {@link PreferencePair}s; RATING labels pair with the prompt's earlier ratings ({@link RatingPairing}).
 *
 * <p>A label that names a generation the store does not hold yet waits in {@link PendingLabels}: feedback and
 * generations are separate topics read at their own pace, and after a restore a label can come before the
 * generations it names. {@link GenerationWindowWriter} forwards every generation here after storing it, and the
 * labels waiting for it are tried again at once; a wall-clock punctuation dead-letters those that waited longer
 * than {@code feedback.pending.max.wait.ms}, with a reason that says so. The wait counts from when the label was
 * parked or from the task's start, whichever is later, so a task that was down does not dead-letter labels whose
 * generations are still queued behind it. A label naming a generation that the store holds, but outside the join
 * window, cannot become joinable and is rejected at once (a waiting one when such a generation arrives), as is one
 * that finds the task's {@code feedback.pending.max.labels} taken.
 *
 * <p>A label makes its pairs once: the ids of joined labels are kept in a window store retained as long as the
 * generations, and a label whose id waits or was joined is skipped (the first copy wins). Under exactly-once the
 * stores, the pairs and the dead letters commit with the input offsets, so a crash neither repeats nor loses one.
 *
 * <p>Labels that cannot make a pair throw {@link FeedbackRejectedException}, which the
 * {@link DeadLetterProcessingHandler} sends to {@code feedback.dlq} with the reason and the original bytes; a
 * label that gives up while no input record is processed (the punctuation, or a generation's arrival) is forwarded
 * to the dead-letter sink here, with the same headers, naming its own topic, partition and offset.
 */
final class FeedbackJoiner implements Processor<String, Decoded<?>, Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(FeedbackJoiner.class);
    private static final byte[] JOINED = new byte[0];
    /** Longest between two looks for labels that waited too long. */
    private static final Duration MAX_TICK = Duration.ofSeconds(1);

    private final long windowMs;
    private final long maxWaitMs;
    private final int maxLabels;
    private final TopicSpec<String, Generation> generationsTopic;
    private final TopicSpec<String, Feedback> feedbackTopic;
    private final DeadLetters deadLetters;
    private ProcessorContext<Object, Object> context;
    private WindowStore<String, byte[]> generations;
    private WindowStore<String, byte[]> joined;
    private KeyValueStore<String, byte[]> ratings;
    private PendingLabels pending;
    private long startedMs;

    FeedbackJoiner(ScoringTopology.Settings settings) {
        this.windowMs = settings.joinWindow().toMillis();
        this.maxWaitMs = settings.pendingMaxWait().toMillis();
        this.maxLabels = settings.pendingMaxLabels();
        this.generationsTopic = settings.topics().generations();
        this.feedbackTopic = settings.topics().feedback();
        this.deadLetters = settings.deadLetters();
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
        this.generations = context.getStateStore(ScoringTopology.GENERATIONS_STORE);
        this.joined = context.getStateStore(ScoringTopology.JOINED_STORE);
        this.ratings = context.getStateStore(ScoringTopology.RATINGS_STORE);
        this.pending = new PendingLabels(context.getStateStore(ScoringTopology.PENDING_STORE));
        this.startedMs = context.currentSystemTimeMs();
        if (pending.size() > 0) {
            LOG.info("task {}: {} feedback label(s) wait for their generations", context.taskId(), pending.size());
        }
        if (maxWaitMs > 0) {
            context.schedule(Duration.ofMillis(Math.min(maxWaitMs, MAX_TICK.toMillis())),
                    PunctuationType.WALL_CLOCK_TIME, this::expire);
        }
    }

    @Override
    public void process(Record<String, Decoded<?>> record) {
        Object value = record.value().value();
        if (value instanceof Generation g) {
            for (String feedbackId : pending.waitingFor(g.getGenerationId())) {
                retry(feedbackId, false);
            }
            return;
        }
        Feedback feedback = (Feedback) value;
        String id = feedback.getFeedbackId();
        if (pending.get(id) != null || joinedBefore(id)) {
            LOG.debug("feedback {} again (a re-sent label): it waits or made its pairs already", id);
            return;
        }
        try {
            forward(join(feedback, record.timestamp()), record.key(), record.timestamp());
        } catch (MissingGenerationsException e) {
            park(record, e);
        }
    }

    /** The label's pairs; marks it joined. */
    private List<PreferencePair> join(Feedback feedback, long at) {
        Function<String, Generation> lookup = id -> GenerationWindowWriter.lookup(generations,
                generationsTopic.valueDeserializer(), generationsTopic.name(), id, at, windowMs);
        Instant now = Instant.ofEpochMilli(context.currentSystemTimeMs());
        List<PreferencePair> pairs;
        if (feedback.getKind() == FeedbackKind.RATING) {
            RatingPairing.Rated fresh = RatingPairing.rated(feedback, lookup);
            List<RatingPairing.Rated> earlier = RatingPairing.fromBytes(ratings.get(feedback.getPromptId()));
            if (earlier.stream().anyMatch(r -> r.feedbackId().equals(fresh.feedbackId()))) {
                return List.of(); // the same label again (a re-sent record): it made its pairs the first time
            }
            pairs = RatingPairing.pairs(feedback.getPromptId(), fresh, earlier, now);
            ratings.put(feedback.getPromptId(), RatingPairing.toBytes(RatingPairing.append(earlier, fresh)));
        } else {
            pairs = FeedbackPairing.pairs(feedback, lookup, now);
        }
        joined.put(feedback.getFeedbackId(), JOINED, at);
        return pairs;
    }

    private void park(Record<String, Decoded<?>> record, MissingGenerationsException e) {
        if (maxWaitMs == 0 || e.missing().stream().anyMatch(this::held)) {
            // Waiting is off, or a named generation is held but outside the join window: no arrival can help.
            throw new FeedbackRejectedException(e.getMessage());
        }
        if (pending.size() >= maxLabels) {
            throw new FeedbackRejectedException(e.getMessage() + "; not kept to wait for them: this task already "
                    + "holds " + pending.size() + " waiting labels (feedback.pending.max.labels)");
        }
        RecordMetadata meta = context.recordMetadata().orElseThrow(() -> new IllegalStateException(
                "a feedback label without record metadata"));
        pending.put(new PendingLabels.Label(((Feedback) record.value().value()).getFeedbackId(), record.key(),
                record.value().raw(), record.timestamp(), meta.topic(), meta.partition(), meta.offset(),
                PendingLabels.Label.of(record.headers()), context.currentSystemTimeMs(), e.missing()));
        LOG.debug("feedback {}-{}@{} waits for generation(s) {}", meta.topic(), meta.partition(), meta.offset(),
                e.missing());
    }

    /** Gives up on the labels that waited longer than the longest wait. */
    private void expire(long nowMs) {
        long cutoff = nowMs - maxWaitMs;
        if (startedMs > cutoff) {
            return;
        }
        for (String feedbackId : pending.waitingSince(cutoff)) {
            retry(feedbackId, true);
        }
    }

    /** Tries a waiting label again: it joins, waits on, or (when {@code last}) is dead-lettered. */
    private void retry(String feedbackId, boolean last) {
        PendingLabels.Label label = pending.get(feedbackId);
        if (label == null) {
            return;
        }
        Feedback feedback = feedbackTopic.valueDeserializer().deserialize(label.topic(), label.recordHeaders(),
                label.value());
        try {
            List<PreferencePair> pairs = join(feedback, label.timestamp());
            pending.remove(feedbackId);
            forward(pairs, label.key(), label.timestamp());
            LOG.debug("feedback {} joined after waiting {} ms", feedbackId,
                    context.currentSystemTimeMs() - label.sinceMs());
        } catch (MissingGenerationsException e) {
            // A generation that arrived outside the label's join window will not come again inside it.
            boolean hopeless = e.missing().stream().anyMatch(this::held);
            if (!last && !hopeless) {
                pending.put(label.missing(e.missing()));
                return;
            }
            pending.remove(feedbackId);
            long waited = Math.max(0, context.currentSystemTimeMs() - Math.max(label.sinceMs(), startedMs));
            deadLetter(label, new FeedbackRejectedException(e.getMessage() + String.format(Locale.ROOT,
                    "; waited %.1f s for them%s", waited / 1000.0, hopeless ? ", and one came outside the join window"
                            : ", the longest feedback.pending.max.wait.ms (" + maxWaitMs + " ms) allows")));
        } catch (FeedbackRejectedException e) {
            pending.remove(feedbackId);
            deadLetter(label, e);
        }
    }

    /** Whether the generations store holds {@code generationId} at any time it retains. */
    private boolean held(String generationId) {
        try (var it = generations.fetch(generationId, Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE))) {
            return it.hasNext();
        }
    }

    private boolean joinedBefore(String feedbackId) {
        try (var it = joined.fetch(feedbackId, Instant.EPOCH, Instant.ofEpochMilli(Long.MAX_VALUE))) {
            return it.hasNext();
        }
    }

    private void forward(List<PreferencePair> pairs, String key, long timestamp) {
        for (PreferencePair pair : pairs) {
            context.forward(new Record<Object, Object>(key, pair, timestamp), ScoringTopology.PREFERENCES_SINK);
        }
    }

    private void deadLetter(PendingLabels.Label label, FeedbackRejectedException error) {
        LOG.warn("dead-lettering feedback {}-{}@{}: {}", label.topic(), label.partition(), label.offset(),
                error.getMessage());
        deadLetters.count(label.topic(), error);
        Headers headers = deadLetters.headers(label.topic(), label.partition(), label.offset(), error,
                label.recordHeaders());
        byte[] key = feedbackTopic.keySerializer().serialize(label.topic(), label.key());
        context.forward(new Record<Object, Object>(key, label.value(), label.timestamp(), headers),
                ScoringTopology.FEEDBACK_DLQ_SINK);
    }
}
