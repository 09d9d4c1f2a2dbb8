package io.streamrlhf.producer.feedback;

import io.streamrlhf.schemas.avro.Feedback;
import java.util.List;

/** Where accepted feedback goes; {@link KafkaFeedbackSink} writes it to the {@code feedback} topic. */
public interface FeedbackSink {

    /** Writes one record and returns once it is stored (acknowledged); throws when it could not be. */
    void write(Feedback feedback);

    /**
     * Writes several records and returns once all are stored; throws when any could not be, and then any of the
     * others may or may not be stored. A sink that can send them together (one request instead of one each)
     * overrides this.
     */
    default void writeAll(List<Feedback> feedback) {
        for (Feedback f : feedback) {
            write(f);
        }
    }
}
