package io.streamrlhf.evaluator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.streamrlhf.evaluator.RmbFixture;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A generative judge prompted pairwise, against a local chat-completions server that prefers the longer response
 * and answers "tie" (no verdict) on equal lengths: its RMB figures must equal {@code rule:length}'s, whichever order
 * the evaluator shows the two responses in.
 */
class PairwiseJudgeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern AB = Pattern.compile("(?s)Response A:\n(.*)\n\nResponse B:\n(.*)");

    private HttpServer server;
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void startJudge() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/chat/completions", exchange -> {
            JsonNode body = JSON.readTree(exchange.getRequestBody());
            String user = body.path("messages").path(1).path("content").asText();
            Matcher m = AB.matcher(user);
            String verdict = "tie";
            if (m.find()) {
                int a = m.group(1).codePointCount(0, m.group(1).length());
                int b = m.group(2).codePointCount(0, m.group(2).length());
                verdict = a > b ? "A" : a < b ? "B" : "tie";
            }
            calls.incrementAndGet();
            byte[] reply = JSON.writeValueAsBytes(JSON.createObjectNode().set("choices", JSON.createArrayNode()
                    .add(JSON.createObjectNode().set("message", JSON.createObjectNode().put("content", verdict)))));
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, reply.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(reply);
            }
        });
        server.start();
    }

    @AfterEach
    void stopJudge() {
        server.stop(0);
    }

    @Test
    void pairwiseJudgeIsAskedInBothOrdersPerLoserAndScoredLikeTheRuleItMimics() {
        List<RmbItem> items = RmbReader.read(RmbFixture.originalLayout()).items();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1/chat/completions";
        RmbEvaluation judged;
        RmbEvaluation length;
        try (RewardEnsemble judge = EvaluationSources.ensemble(EvaluationSources.parse(
                List.of("judge:" + url + ";mode=pairwise;model=fake;retries=0")), Aggregation.MEAN);
             RewardEnsemble rule = EvaluationSources.ensemble(EvaluationSources.parse(List.of("rule:length")),
                     Aggregation.MEAN)) {
            judged = new RmbScorer(judge, 8).evaluate(items);
            length = new RmbScorer(rule, 8).evaluate(items);
        }

        // 8 pairs + BoN losers 2 + 2 + 3 + 2 + 2 = 19 comparisons, each asked in both orders.
        assertThat(calls.get()).isEqualTo(38);
        assertThat(judged.voters()).containsExactly("judge-fake");
        assertThat(judged.primary().pairwise()).isEqualTo(new Accuracy(4, 8));
        assertThat(judged.primary().bon()).isEqualTo(new Accuracy(3, 5));
        assertThat(judged.primary().byScenario()).isEqualTo(length.primary().byScenario());
        assertThat(judged.primary().overall()).isEqualTo(length.primary().overall());
        for (int i = 0; i < items.size(); i++) {
            assertThat(judged.items().get(i).correct()).as(items.get(i).key())
                    .isEqualTo(length.items().get(i).correct());
        }
    }
}
