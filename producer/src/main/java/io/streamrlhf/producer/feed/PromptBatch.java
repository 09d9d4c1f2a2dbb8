package io.streamrlhf.producer.feed;

import io.streamrlhf.schemas.avro.Prompt;
import java.util.List;

/**
 * What reading an input gave: the valid prompts in input order and the problems of the invalid ones.
 *
 * @param prompts  the valid prompts
 * @param problems one entry per invalid prompt (or unreadable file)
 */
public record PromptBatch(List<Prompt> prompts, List<PromptProblem> problems) {

    /** Copies the lists. */
    public PromptBatch {
        prompts = List.copyOf(prompts);
        problems = List.copyOf(problems);
    }

    /**
     * The prompts to send: all of them when there were no problems, the valid ones when {@code skipBad}.
     *
     * @throws PromptValidationException when there were problems and {@code skipBad} is false
     */
    public List<Prompt> toSend(boolean skipBad) {
        if (!problems.isEmpty() && !skipBad) {
            throw new PromptValidationException(problems);
        }
        return prompts;
    }
}
