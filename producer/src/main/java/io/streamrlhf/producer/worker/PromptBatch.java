package io.streamrlhf.producer.worker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * A batch in the worker's pipeline: its prompts in poll order, their sampling rows (one per sample), the prompts to
 * dead-letter instead, its seed, when it was prepared, and the partitions revoked since it was polled (added by the
 * rebalance listener on the worker's thread, read at commit: their prompts are left to the new owner).
 */
final class PromptBatch {
    private final List<PolledPrompt> prompts;
    private final List<Row> rows;
    private final List<DeadLetter> deadLetters;
    private final long seed;
    private final long preparedAt;
    private final Set<TopicPartition> revoked = new HashSet<>();

    private PromptBatch(List<PolledPrompt> prompts, List<Row> rows, List<DeadLetter> deadLetters, long seed,
                        long preparedAt) {
        this.prompts = prompts;
        this.rows = rows;
        this.deadLetters = deadLetters;
        this.seed = seed;
        this.preparedAt = preparedAt;
    }

    /**
     * Renders and encodes the prompts into sampling rows; a prompt that was not read, or cannot be encoded, becomes
     * a dead letter.
     *
     * @param prompts    at least one, in poll order
     * @param workerSeed the worker's seed ({@link WorkerConfig#seed()})
     */
    static PromptBatch prepare(List<PolledPrompt> prompts, PromptEncoder encoder, long workerSeed) {
        List<Row> rows = new ArrayList<>();
        List<DeadLetter> bad = new ArrayList<>();
        for (PolledPrompt p : prompts) {
            if (p.error() != null) {
                bad.add(new DeadLetter(p, p.error()));
                continue;
            }
            String text;
            int[] tokens;
            try {
                text = PromptEncoder.render(p.prompt().getConversation());
                tokens = encoder.encode(p.prompt().getConversation(), text);
            } catch (RuntimeException e) {
                bad.add(new DeadLetter(p, e));
                continue;
            }
            for (int i = 0; i < p.rows(); i++) {
                rows.add(new Row(p, i, text, tokens));
            }
        }
        return new PromptBatch(prompts, rows, bad, seed(workerSeed, prompts.get(0)), System.nanoTime());
    }

    /** The batch's sampling seed: the worker's seed mixed with its first prompt's position, so a replay repeats it. */
    static long seed(long workerSeed, PolledPrompt first) {
        long h = workerSeed * 0x9E3779B97F4A7C15L;
        h ^= ((long) first.partition().partition() << 48) ^ first.offset();
        return h * 0xBF58476D1CE4E5B9L;
    }

    List<PolledPrompt> prompts() {
        return prompts;
    }

    List<Row> rows() {
        return rows;
    }

    List<DeadLetter> deadLetters() {
        return deadLetters;
    }

    long seed() {
        return seed;
    }

    /** When (of {@link System#nanoTime()}) it was prepared, i.e. handed to the sampler. */
    long preparedAt() {
        return preparedAt;
    }

    /** Marks partitions revoked: this batch's samples of them will not be committed. */
    void revoke(Collection<TopicPartition> partitions) {
        revoked.addAll(partitions);
    }

    boolean isRevoked(TopicPartition partition) {
        return revoked.contains(partition);
    }

    /** The partitions revoked since the batch was polled. */
    Set<TopicPartition> revoked() {
        return revoked;
    }

    /** One sequence to sample: a prompt, the sample's index within its group, the rendered text and its tokens. */
    record Row(PolledPrompt prompt, int index, String text, int[] tokens) {
    }

    /** A prompt that goes to the dead-letter topic instead of the sampler, and why. */
    record DeadLetter(PolledPrompt prompt, RuntimeException error) {
    }
}
