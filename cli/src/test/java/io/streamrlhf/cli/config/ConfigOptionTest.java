package io.streamrlhf.cli.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.cli.Rlhf;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command that talks to Kafka takes {@code --config FILE}, the component properties files of
 * {@code rlhf cluster up --secure}; the Kafka benchmarks take it too, with their secure options.
 */
class ConfigOptionTest {

    private static final List<String> COMMANDS = List.of("worker", "score", "learn", "train-rm", "feedback serve",
            "feedback import", "feedback simulate", "rescore", "status", "topics create", "topics list", "prompts send", "replay",
            "export", "bench worker", "bench scoring");

    @Test
    void everyKafkaCommandTakesConfig() {
        CommandLine rlhf = Rlhf.commandLine();
        for (String path : COMMANDS) {
            CommandLine command = rlhf;
            for (String name : path.split(" ")) {
                command = command.getSubcommands().get(name);
                assertThat(command).as("rlhf " + path).isNotNull();
            }
            assertThat(command.getCommandSpec().findOption("--config")).as("rlhf " + path + " --config").isNotNull();
        }
    }

    @Test
    void theKafkaBenchmarksTakeTheSecureOptions() {
        CommandLine bench = Rlhf.commandLine().getSubcommands().get("bench");
        for (String name : List.of("worker", "scoring")) {
            CommandLine command = bench.getSubcommands().get(name);
            for (String option : List.of("--config", "--admin-config", "--secure", "--compare-plaintext")) {
                assertThat(command.getCommandSpec().findOption(option)).as("rlhf bench " + name + " " + option)
                        .isNotNull();
            }
        }
    }
}
