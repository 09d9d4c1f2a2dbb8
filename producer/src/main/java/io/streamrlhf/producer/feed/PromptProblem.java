package io.streamrlhf.producer.feed;

/**
 * One thing wrong with an input prompt.
 *
 * @param source  the file
 * @param where   the position in it, e.g. {@code line 12} or {@code record 3}
 * @param message what is wrong, naming the field
 */
public record PromptProblem(String source, String where, String message) {

    @Override
    public String toString() {
        return source + ": " + where + ": " + message;
    }
}
