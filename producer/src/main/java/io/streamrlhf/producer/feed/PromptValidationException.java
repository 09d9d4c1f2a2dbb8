package io.streamrlhf.producer.feed;

import java.util.List;
import java.util.stream.Collectors;

/** An input file holds invalid prompts; nothing of it was sent. The message lists every problem (up to 20). */
public class PromptValidationException extends RuntimeException {

    private final List<PromptProblem> problems;

    /** For the problems found. */
    public PromptValidationException(List<PromptProblem> problems) {
        super(message(problems));
        this.problems = List.copyOf(problems);
    }

    /** Every problem found. */
    public List<PromptProblem> problems() {
        return problems;
    }

    private static String message(List<PromptProblem> problems) {
        String listed = problems.stream().limit(20).map(p -> "  " + p).collect(Collectors.joining("\n"));
        String more = problems.size() > 20 ? "\n  ... and " + (problems.size() - 20) + " more" : "";
        return problems.size() + " invalid prompt(s); nothing was sent (use --skip-bad to send the valid ones):\n"
                + listed + more;
    }
}
