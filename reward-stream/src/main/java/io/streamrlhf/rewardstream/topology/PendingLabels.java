package io.streamrlhf.rewardstream.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The feedback labels of one task that wait for generations the join store does not hold yet, in the changelogged
 * store {@value ScoringTopology#PENDING_STORE}. One store, three kinds of key (NUL separates the parts):
 * <ul>
 *   <li>{@code L <feedback_id>} → the label ({@link Label}, JSON): its original bytes, where it was read, when it
 *       started waiting and the generations it still misses;</li>
 *   <li>{@code G <generation_id> <feedback_id>} → the feedback id, once per missing generation, so the arrival of a
 *       generation finds the labels that wait for it with one prefix scan;</li>
 *   <li>{@code T <since, 20 digits> <feedback_id>} → the feedback id, so the labels that waited longest are one range
 *       scan away, oldest first.</li>
 * </ul>
 * A key collision (an id holding NUL) only makes a label be tried once more, which is harmless: a try looks every
 * generation up again. The store and the task's outputs commit in one transaction, so after a crash the labels
 * that wait are exactly those whose offsets were committed and that made no pair yet.
 */
final class PendingLabels {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SEP = "\u0000";
    private static final String LABEL = "L" + SEP;
    private static final String BY_GENERATION = "G" + SEP;
    private static final String BY_TIME = "T" + SEP;
    private static final StringSerializer KEYS = new StringSerializer();

    /**
     * One header of the label's record, kept for its dead letter.
     *
     * @param key   the header's key
     * @param value its bytes, or {@code null}
     */
    record HeaderBytes(String key, byte[] value) {
    }

    /**
     * A label that waits.
     *
     * @param feedbackId the label's feedback id (the store key)
     * @param key        its record key (the prompt id)
     * @param value      its value bytes as they were on the topic
     * @param timestamp  its record timestamp, which the join window is measured from
     * @param topic      the topic it was read from
     * @param partition  the partition it was read from
     * @param offset     its offset there
     * @param headers    its record headers
     * @param sinceMs    wall-clock time it started waiting, ms since the epoch
     * @param missing    the generation ids the store did not hold at its last try
     */
    record Label(String feedbackId, String key, byte[] value, long timestamp, String topic, int partition,
                 long offset, List<HeaderBytes> headers, long sinceMs, List<String> missing) {

        Label {
            Objects.requireNonNull(feedbackId, "feedbackId");
            headers = List.copyOf(headers);
            missing = List.copyOf(missing);
        }

        /** The same label, missing {@code stillMissing} now. */
        Label missing(List<String> stillMissing) {
            return new Label(feedbackId, key, value, timestamp, topic, partition, offset, headers, sinceMs,
                    stillMissing);
        }

        /** The record headers as Kafka headers. */
        Headers recordHeaders() {
            Headers out = new RecordHeaders();
            headers.forEach(h -> out.add(h.key(), h.value()));
            return out;
        }

        /** The headers of {@code headers} as a label keeps them. */
        static List<HeaderBytes> of(Headers headers) {
            List<HeaderBytes> out = new ArrayList<>();
            for (Header h : headers) {
                out.add(new HeaderBytes(h.key(), h.value()));
            }
            return out;
        }
    }

    private final KeyValueStore<String, byte[]> store;
    private int size;

    /** Reads the store as restored (counting its labels, which the per-task cap is checked against). */
    PendingLabels(KeyValueStore<String, byte[]> store) {
        this.store = Objects.requireNonNull(store, "store");
        try (KeyValueIterator<String, byte[]> it = store.prefixScan(LABEL, KEYS)) {
            while (it.hasNext()) {
                it.next();
                size++;
            }
        }
    }

    /** Labels waiting now. */
    int size() {
        return size;
    }

    /** The label with {@code feedbackId}, or {@code null} when it does not wait. */
    Label get(String feedbackId) {
        byte[] bytes = store.get(LABEL + feedbackId);
        if (bytes == null) {
            return null;
        }
        try {
            return JSON.readValue(bytes, Label.class);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable entry of feedback " + feedbackId + " in store "
                    + ScoringTopology.PENDING_STORE, e);
        }
    }

    /** Adds {@code label}, or replaces the label with its feedback id (then only its missing generations change). */
    void put(Label label) {
        Label old = get(label.feedbackId());
        if (old != null) {
            deleteKeys(old);
        } else {
            size++;
        }
        byte[] id = label.feedbackId().getBytes(StandardCharsets.UTF_8);
        try {
            store.put(LABEL + label.feedbackId(), JSON.writeValueAsBytes(label));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        for (String generationId : label.missing()) {
            store.put(generationKey(generationId, label.feedbackId()), id);
        }
        store.put(timeKey(label.sinceMs(), label.feedbackId()), id);
    }

    /** Removes the label with {@code feedbackId} and its index keys, if it waits. */
    void remove(String feedbackId) {
        Label stored = get(feedbackId);
        if (stored == null) {
            return;
        }
        deleteKeys(stored);
        size--;
    }

    /** The feedback ids of the labels that wait for {@code generationId}. */
    List<String> waitingFor(String generationId) {
        List<String> out = new ArrayList<>();
        if (size == 0) {
            return out;
        }
        try (KeyValueIterator<String, byte[]> it = store.prefixScan(BY_GENERATION + generationId + SEP, KEYS)) {
            it.forEachRemaining(kv -> out.add(new String(kv.value, StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** The feedback ids of the labels that started waiting at or before {@code cutoffMs}, oldest first. */
    List<String> waitingSince(long cutoffMs) {
        List<String> out = new ArrayList<>();
        if (size == 0 || cutoffMs < 0) {
            return out;
        }
        // Every time key of a label with since <= cutoff sorts below the bare prefix of cutoff + 1.
        try (KeyValueIterator<String, byte[]> it = store.range(BY_TIME, BY_TIME + digits(cutoffMs + 1))) {
            it.forEachRemaining(kv -> out.add(new String(kv.value, StandardCharsets.UTF_8)));
        }
        return out;
    }

    private void deleteKeys(Label label) {
        store.delete(LABEL + label.feedbackId());
        for (String generationId : label.missing()) {
            store.delete(generationKey(generationId, label.feedbackId()));
        }
        store.delete(timeKey(label.sinceMs(), label.feedbackId()));
    }

    private static String generationKey(String generationId, String feedbackId) {
        return BY_GENERATION + generationId + SEP + feedbackId;
    }

    private static String timeKey(long sinceMs, String feedbackId) {
        return BY_TIME + digits(sinceMs) + SEP + feedbackId;
    }

    private static String digits(long ms) {
        return String.format("%020d", ms);
    }
}
