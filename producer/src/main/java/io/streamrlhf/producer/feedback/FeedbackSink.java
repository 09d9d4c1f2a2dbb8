package io.streamrlhf.producer.feedback;

import io.streamrlhf.schemas.avro.Feedback;

/** Where accepted feedback goes; {@link KafkaFeedbackSink} writes it to the {@code feedback} topic. */
public interface FeedbackSink {

    /** Writes one record and returns once it is stored (acknowledged); throws when it could not be. */
    void write(Feedback feedback);
}
