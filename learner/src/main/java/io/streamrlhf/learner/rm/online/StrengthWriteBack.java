package io.streamrlhf.learner.rm.online;

import io.streamrlhf.learner.rm.PairStrength;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.PreferenceStrength;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes pairs back to {@code preferences} with their measured strength set, marked with the header
 * {@link OnlineRmTrainer#ORIGIN_HEADER}{@code =}{@link OnlineRmTrainer#ORIGIN} so that trainers reading the
 * topic skip them (they are measurements of pairs already there, not new preferences). Readers that
 * want the newest strength of a pair take its last record with that header.
 */
public final class StrengthWriteBack {

    private StrengthWriteBack() {
    }

    /**
     * Sends one record per pair and flushes.
     *
     * @param pairs     the pairs as read
     * @param strengths one per pair, same order
     * @param models    the reward-model versions that measured them
     */
    public static void write(Producer<String, PreferencePair> producer, Topics topics, List<PreferencePair> pairs,
                             List<PairStrength> strengths, List<ModelRef> models) {
        if (pairs.size() != strengths.size()) {
            throw new IllegalArgumentException("write-back: " + pairs.size() + " pairs but " + strengths.size()
                    + " strengths");
        }
        for (int i = 0; i < pairs.size(); i++) {
            PairStrength s = strengths.get(i);
            PreferencePair measured = PreferencePair.newBuilder(pairs.get(i))
                    .setStrength(new PreferenceStrength(s.mean(), s.std(), s.ensembleSize(), models))
                    .build();
            ProducerRecord<String, PreferencePair> record = new ProducerRecord<>(topics.preferences().name(),
                    measured.getPromptId(), measured);
            record.headers().add(OnlineRmTrainer.ORIGIN_HEADER, OnlineRmTrainer.ORIGIN.getBytes(StandardCharsets.UTF_8));
            producer.send(record);
        }
        producer.flush();
    }
}
