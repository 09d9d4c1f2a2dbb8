package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.loop.stack.StackOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** {@code rlhf stack up|init}'s security flags: usage errors name the flag, the file or the alternative. */
class StackCommandTest {

    @TempDir Path clients;

    private static StackOptions parse(StackCommand.StackFlags command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.parseArgs(args);
        return command.options(cl.getCommandSpec());
    }

    private void clientFiles(String... users) throws IOException {
        for (String user : users) {
            Files.writeString(clients.resolve(user + ".properties"), "topic.prefix=rlhf.\nsecurity.protocol=SASL_SSL\n"
                    + "sasl.jaas.config=... username=\\\"" + user + "\\\" password=\\\"x\\\";\n");
        }
    }

    @Test
    void aConfigDirectoryWithoutSomeUsersFilesIsAUsageErrorNamingThem() throws IOException {
        clientFiles("worker", "scorer", "learner", "feedback", "evaluator");
        assertThatThrownBy(() -> parse(new StackCommand.Init(), "--bootstrap", "kafka:9093", "--registry", "http://r",
                "--config", clients.toString(), "--synthetic-prompts", "2"))
                .isInstanceOf(ParameterException.class)
                .hasMessageContaining(clients.resolve("rm-trainer.properties").toString())
                .hasMessageContaining(clients.resolve("admin.properties").toString());
        clientFiles("rm-trainer", "admin");
        StackOptions options = parse(new StackCommand.Init(), "--bootstrap", "kafka:9093", "--registry", "http://r",
                "--config", clients.toString(), "--synthetic-prompts", "2");
        assertThat(options.clientConfigs()).isEqualTo(clients);
        assertThat(options.secured()).isTrue();
    }

    @Test
    void secureWithSeveralBrokersNamesTheAlternative() {
        assertThatThrownBy(() -> parse(new StackCommand.Up(), "--secure", "--brokers", "3"))
                .isInstanceOf(ParameterException.class)
                .hasMessageContaining("rlhf cluster up --secure --brokers 3");
        assertThatThrownBy(() -> parse(new StackCommand.Up(), "--config", clients.toString()))
                .isInstanceOf(ParameterException.class).hasMessageContaining("give --bootstrap and --registry");
        assertThat(parse(new StackCommand.Up(), "--secure").secure()).isTrue();
    }
}
