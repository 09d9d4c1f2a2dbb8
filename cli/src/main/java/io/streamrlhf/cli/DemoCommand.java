package io.streamrlhf.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
  * {@code rlhf demo}: the whole loop on the embedded default. Not built yet; until it is, the command says so and
  * fails rather than pretending to run.
  */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole RLHF loop on the embedded single-machine default.",
                "NOT BUILT YET: this command exits with status 2 until the end-to-end loop lands."})
final class DemoCommand implements Callable<Integer> {

    /** Exit status meaning "this feature does not exist yet". */
    static final int NOT_BUILT = 2;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        var err = spec.commandLine().getErr();
        err.println("rlhf demo: not built yet. The end-to-end loop (policy workers, reward stream, PPO learner,");
        err.println("reward-model trainer, simulated raters) has not landed; nothing was run.");
        err.println("What works today: 'rlhf cluster up' (embedded Kafka + schema registry, topics created),");
        err.println("'rlhf topics create|list'. See README.md, section 'What works today'.");
        return NOT_BUILT;
    }
}
