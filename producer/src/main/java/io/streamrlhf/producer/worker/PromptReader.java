package io.streamrlhf.producer.worker;

import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.TopicSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads and validates polled prompt records. A record that cannot be read (a tombstone, bytes the prompt schema does
 * not read) or asks for what a worker will not do (an empty conversation, a sample count outside
 * 1..{@value #MAX_SAMPLES_PER_PROMPT}) comes back with its error, to be dead-lettered in the batch's transaction.
 */
final class PromptReader {
    /** Prompts may ask for at most this many samples; more is dead-lettered as a mistake. */
    static final int MAX_SAMPLES_PER_PROMPT = 1024;

    private final TopicSpec<String, Prompt> spec;

    PromptReader(TopicSpec<String, Prompt> spec) {
        this.spec = spec;
    }

    /**
     * The record's prompt, or the error that sends it to the dead-letter topic; null when the schema registry could
     * not be asked (an outage says nothing about the record, so it must be read again, never dead-lettered).
     */
    PolledPrompt read(ConsumerRecord<byte[], byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        try {
            if (r.value() == null) {
                throw new IllegalArgumentException("the prompt record has no value (a tombstone)");
            }
            Prompt prompt = spec.valueDeserializer().deserialize(r.topic(), r.headers(), r.value());
            validate(prompt);
            return new PolledPrompt(tp, r.offset(), r.key(), r.value(), prompt, null);
        } catch (RuntimeException e) {
            if (AvroSerdeException.isRegistryOutage(e)) {
                return null;
            }
            return new PolledPrompt(tp, r.offset(), r.key(), r.value(), null, e);
        }
    }

    /**
     * Checks what a worker needs of a prompt.
     *
     * @throws IllegalArgumentException naming the prompt and what is wrong
     */
    static void validate(Prompt prompt) {
        if (prompt.getConversation().isEmpty()) {
            throw new IllegalArgumentException("prompt " + prompt.getPromptId() + " has an empty conversation");
        }
        int k = prompt.getSamplesPerPrompt();
        if (k < 1 || k > MAX_SAMPLES_PER_PROMPT) {
            throw new IllegalArgumentException("prompt " + prompt.getPromptId() + " asks for " + k
                    + " samples; expected 1.." + MAX_SAMPLES_PER_PROMPT);
        }
    }
}
