package io.streamrlhf.producer.feedback;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.producer.feed.PromptProblem;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.jsonl.JsonlLines;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TransactionCommit;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.ProducerFencedException;

/**
 * {@code rlhf feedback import --file feedback.jsonl}: one label per line in the {@link FeedbackParser} format
 * (blank lines skipped). Every line is validated first; a file with a bad line sends nothing (unless
 * {@code skipBad}), and the good lines go out in one transaction, so a failure part-way leaves nothing visible.
 */
public final class FeedbackImporter {

    /**
     * What reading a file gave.
     *
     * @param labels   the valid labels, in file order
     * @param problems one entry per bad line, naming the line and the field
     */
    public record Result(List<Feedback> labels, List<PromptProblem> problems) {

        /** The labels to send; throws listing every problem when there are some and {@code skipBad} is false. */
        public List<Feedback> toSend(boolean skipBad) {
            if (!problems.isEmpty() && !skipBad) {
                String listed = problems.stream().limit(20).map(p -> "  " + p).collect(Collectors.joining("\n"));
                throw new IllegalArgumentException(problems.size() + " invalid label(s); nothing was sent (use "
                        + "--skip-bad to send the valid ones):\n" + listed
                        + (problems.size() > 20 ? "\n  ... and " + (problems.size() - 20) + " more" : ""));
            }
            return labels;
        }
    }

    private FeedbackImporter() {
    }

    /** Reads and validates a JSONL file of labels. */
    public static Result read(Path file, FeedbackParser parser) {
        List<Feedback> labels = new ArrayList<>();
        List<PromptProblem> problems = new ArrayList<>();
        try {
            JsonlLines.forEach(file, line -> {
                if (line.problem() != null) {
                    problems.add(new PromptProblem(file.toString(), "line " + line.number(), line.problem()));
                } else if (!line.isBlank()) {
                    try {
                        labels.add(parser.parse(line.text()));
                    } catch (FeedbackValidationException e) {
                        problems.add(new PromptProblem(file.toString(), "line " + line.number(), e.getMessage()));
                    }
                }
            });
        } catch (IOException e) {
            problems.add(new PromptProblem(file.toString(), "file", "cannot be read: " + e.getMessage()));
        }
        return new Result(labels, problems);
    }

    /**
     * Sends labels to {@code feedback} in one transaction.
     *
     * @return how many were sent
     */
    public static int send(List<Feedback> labels, Topics topics, Map<String, Object> clientProperties) {
        if (labels.isEmpty()) {
            return 0;
        }
        TopicSpec<String, Feedback> spec = topics.feedback();
        Map<String, Object> props = ClientSettings.producer(clientProperties);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "rlhf-feedback-import-" + UUID.randomUUID());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, Feedback> producer = new KafkaProducer<>(props, spec.keySerializer(),
                spec.valueSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            try {
                for (Feedback f : labels) {
                    producer.send(new ProducerRecord<>(spec.name(), f.getPromptId(), f));
                }
                TransactionCommit.commit(producer, "an import batch of feedback");
            } catch (ProducerFencedException e) {
                throw e;
            } catch (KafkaException e) {
                producer.abortTransaction();
                throw new KafkaException("importing " + labels.size() + " labels into " + spec.name()
                        + " failed and was rolled back; nothing was sent: " + e.getMessage(), e);
            }
            producer.close(Duration.ofSeconds(10));
        }
        return labels.size();
    }
}
