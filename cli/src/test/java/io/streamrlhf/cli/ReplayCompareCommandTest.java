package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code rlhf replay --compare}'s refusals, before it touches a cluster. */
class ReplayCompareCommandTest {

    @Test
    void compareTakesTwoTopicsAndNothingThatScores() {
        CliRun one = CliRun.of("replay", "--compare", "scored");
        assertThat(one.code()).isEqualTo(2);
        assertThat(one.err()).contains("--compare");
        CliRun both = CliRun.of("replay", "--compare", "scored", "scored.v2", "--topic", "scored");
        assertThat(both.err()).contains("give exactly one of --rmb PATH, --topic T or --compare A B");
        CliRun reward = CliRun.of("replay", "--compare", "scored", "scored.v2", "--reward", "rule:length");
        assertThat(reward.code()).isEqualTo(2);
        assertThat(reward.err()).contains("--reward, --gold and --report do not apply");
        assertThat(CliRun.of("replay", "--help").out()).contains("--compare A B").contains("Spearman");
    }
}
