package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code rlhf rescore}'s refusals, before it touches a cluster. */
class RescoreCommandTest {

    @Test
    void badInputIsRefusedNamingTheOption() {
        CliRun badRange = CliRun.of("rescore", "--range", "last week", "--reward", "rule:length", "--to", "t.rescored");
        assertThat(badRange.code()).isEqualTo(2);
        assertThat(badRange.err()).contains("--range: range 'last week': expected FROM..TO");
        assertThat(CliRun.of("rescore", "--reward", "rule:length").err()).contains("--to");
        assertThat(CliRun.of("rescore", "--reward", "rule:length", "--to", "x", "--batch-size", "0").err())
                .contains("--batch-size must be >= 1");
        assertThat(CliRun.of("rescore", "--help").out()).contains("--range").contains("exactly once");
    }
}
