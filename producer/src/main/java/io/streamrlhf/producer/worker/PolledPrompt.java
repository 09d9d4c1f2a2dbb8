package io.streamrlhf.producer.worker;

import io.streamrlhf.schemas.avro.Prompt;
import org.apache.kafka.common.TopicPartition;

/**
 * A polled prompt record: where it was read, its bytes as read (for a dead letter), and the prompt, or the error that
 * kept it from being read or accepted ({@link PromptReader}).
 *
 * @param partition where it was read
 * @param offset    its offset there
 * @param key       its key as read
 * @param value     its value as read
 * @param prompt    the valid prompt, or {@code null} with {@code error}
 * @param error     why it goes to the dead-letter topic, or {@code null}
 */
record PolledPrompt(TopicPartition partition, long offset, byte[] key, byte[] value, Prompt prompt,
                    RuntimeException error) {

    /** Sequences this prompt adds to a batch (0 for one that will be dead-lettered). */
    int rows() {
        return prompt == null ? 0 : prompt.getSamplesPerPrompt();
    }
}
