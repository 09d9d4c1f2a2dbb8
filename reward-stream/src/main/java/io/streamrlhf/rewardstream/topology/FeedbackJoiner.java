package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Joins each feedback label with the generations it names (looked up in the window store
 * {@link GenerationWindowWriter} fills, within the join window of the feedback's timestamp) and forwards the
 * resulting {@link PreferencePair}s. Labels that make no pair throw {@link FeedbackRejectedException}, which the
 * {@link DeadLetterProcessingHandler} sends to {@code feedback.dlq} with the reason and the original bytes.
 */
final class FeedbackJoiner implements Processor<String, Decoded<Feedback>, String, PreferencePair> {
    private final long windowMs;
    private final Deserializer<Generation> generationDeserializer;
    private final String generationsTopic;
    private ProcessorContext<String, PreferencePair> context;
    private WindowStore<String, byte[]> generations;

    FeedbackJoiner(long windowMs, Deserializer<Generation> generationDeserializer, String generationsTopic) {
        this.windowMs = windowMs;
        this.generationDeserializer = generationDeserializer;
        this.generationsTopic = generationsTopic;
    }

    @Override
    public void init(ProcessorContext<String, PreferencePair> context) {
        this.context = context;
        this.generations = context.getStateStore(ScoringTopology.GENERATIONS_STORE);
    }

    @Override
    public void process(Record<String, Decoded<Feedback>> record) {
        Feedback feedback = record.value().value();
        long at = record.timestamp();
        List<PreferencePair> pairs = FeedbackPairing.pairs(feedback,
                id -> GenerationWindowWriter.lookup(generations, generationDeserializer, generationsTopic, id, at,
                        windowMs),
                Instant.ofEpochMilli(context.currentSystemTimeMs()));
        for (PreferencePair pair : pairs) {
            context.forward(new Record<>(feedback.getPromptId(), pair, record.timestamp()));
        }
    }
}
