package io.streamrlhf.models.sft;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A {@link JsonlCorpus} as token ids for one policy: what SFT and PPO-ptx train on.
 *
 * @param file         the corpus file
 * @param sequences    the examples that fit, in file order
 * @param skippedLines lines skipped because their prompt fills the context (nothing would be learned)
 * @param truncated    sequences cut at the context
 * @param context      the context they were encoded for
 */
public record EncodedCorpus(Path file, List<Sequence> sequences, List<Integer> skippedLines, int truncated,
                            int context) {

    /** Copies the lists. */
    public EncodedCorpus {
        sequences = List.copyOf(sequences);
        skippedLines = List.copyOf(skippedLines);
    }

    /**
     * One example's ids.
     *
     * @param line        its line in the file
     * @param ids         the prompt's and the learned part's ids, no longer than the context
     * @param learnedFrom the index of the first learned id (the prompt's length; 1 for text)
     */
    public record Sequence(int line, int[] ids, int learnedFrom) {

        /** Learned ids: those a position of the sequence predicts. */
        public int learnedTokens() {
            return ids.length - learnedFrom;
        }
    }

    /** Sequences to train on. */
    public int size() {
        return sequences.size();
    }

    /** Learned tokens over all sequences. */
    public long learnedTokens() {
        return sequences.stream().mapToLong(Sequence::learnedTokens).sum();
    }

    /**
     * One line for people: the examples and learned tokens, and what was cut or skipped, with the first skipped
     * lines.
     */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(size()).append(" examples from ").append(file).append(" (").append(learnedTokens())
                .append(" learned tokens, context ").append(context).append(')');
        if (truncated > 0) {
            sb.append("; ").append(truncated).append(" cut at the context");
        }
        if (!skippedLines.isEmpty()) {
            sb.append("; ").append(skippedLines.size()).append(" skipped, their prompt filling the context (line")
                    .append(skippedLines.size() == 1 ? " " : "s ")
                    .append(skippedLines.stream().limit(10).map(String::valueOf).collect(Collectors.joining(", ")))
                    .append(skippedLines.size() > 10 ? ", ..." : "").append(')');
        }
        return sb.toString();
    }
}
