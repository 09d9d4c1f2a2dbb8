package io.streamrlhf.rewardstream.scoring.judge;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.app.JudgeServer;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Pairwise judging over a real local chat-completions server: every comparison asked in both orders, so a judge
 * that always names the first response cancels out, while a judge with a real preference keeps it.
 */
class PairwiseJudgeIT {
    private static final Pattern A = Pattern.compile("Response A:\\n(.*?)\\n\\nResponse B:", Pattern.DOTALL);
    private static final Pattern B = Pattern.compile("Response B:\\n(.*)$", Pattern.DOTALL);

    private static String response(Pattern p, String user) {
        Matcher m = p.matcher(user);
        return m.find() ? m.group(1) : "";
    }

    /** Prefers the longer response; on a tie, the first position. */
    private static String longerWins(String user) {
        return response(A, user).length() >= response(B, user).length() ? "A" : "B";
    }

    private static ChatJudgeSource judge(JudgeServer server, String options) {
        return (ChatJudgeSource) RewardSources.create(RewardSpec.parse("judge:" + server.endpoint()
                + ";mode=pairwise;model=m;name=judge" + options));
    }

    @Test
    void bothOrdersAreAskedAndAPositionBiasCancels() throws Exception {
        try (JudgeServer server = new JudgeServer().verdict(u -> "A")) {
            ChatJudgeSource judge = judge(server, "");
            assertThat(judge.preference("q", "short", "a much longer answer")).isEqualTo(0.5);
            assertThat(server.requests.get()).isEqualTo(2);
            assertThat(response(A, server.userMessages.get(0))).isEqualTo("short");
            assertThat(response(A, server.userMessages.get(1))).isEqualTo("a much longer answer");

            ChatJudgeSource once = judge(server, ";orders=one");
            assertThat(once.preference("q", "short", "a much longer answer")).as("one order keeps the bias")
                    .isEqualTo(1.0);
        }
    }

    @Test
    void aRealPreferenceSurvivesBothOrders() throws Exception {
        try (JudgeServer server = new JudgeServer().verdict(PairwiseJudgeIT::longerWins)) {
            ChatJudgeSource judge = judge(server, "");
            assertThat(judge.preference("q", "a much longer answer", "short")).isEqualTo(1.0);
            assertThat(judge.preference("q", "short", "a much longer answer")).isEqualTo(0.0);
        }
    }

    @Test
    void inTheEnsembleEachResponseScoresItsShareOfWinsAgainstItsGroupMates() throws Exception {
        try (JudgeServer server = new JudgeServer().verdict(PairwiseJudgeIT::longerWins)) {
            ChatJudgeSource judge = judge(server, ";max_tokens=4");
            List<ScoringInput> batch = List.of(
                    ScoringInput.of("g1", "prompt one", "medium size"),
                    ScoringInput.of("g2", "prompt one", "s"),
                    ScoringInput.of("g3", "prompt one", "the longest response of all"),
                    ScoringInput.of("g4", "prompt two", "alone"));
            double[] scores = judge.score(batch);
            assertThat(scores[0]).isEqualTo(0.5);
            assertThat(scores[1]).isEqualTo(0.0);
            assertThat(scores[2]).isEqualTo(1.0);
            assertThat(scores[3]).as("no group mate in the batch").isNaN();
            assertThat(server.requests.get()).as("3 pairs, both orders").isEqualTo(6);
            assertThat(server.maxTokens).containsOnly(4);
        }
    }
}
