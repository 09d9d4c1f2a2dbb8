package io.streamrlhf.rewardstream.scoring.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.verify.VerifierSpec;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifierTest {

    private static boolean passes(String spec, String response, String... references) {
        return new Verifier(VerifierSpec.parse(spec)).check(response, List.of(references)).passed();
    }

    @Test
    void exactIgnoresOnlySurroundingWhitespace() {
        assertThat(passes("exact", "  Paris \n", "Paris")).isTrue();
        assertThat(passes("exact", "paris", "Paris")).isFalse();
        assertThat(passes("exact", "Lyon", "Paris", "Lyon")).isTrue();
    }

    @Test
    void normalisedFoldsCasePunctuationArticlesAndWidth() {
        assertThat(passes("normalised", "The  Eiffel-Tower!", "eiffel tower")).isTrue();
        assertThat(passes("normalized", "ＰＡＲＩＳ.", "paris")).isTrue();
        assertThat(passes("normalised", "an apple", "apple")).isTrue();
        assertThat(passes("normalised", "apples", "apple")).isFalse();
    }

    @Test
    void numericAcceptsTheWaysPeopleWriteNumbers() {
        assertThat(passes("numeric", "1,234.5", "1234.5")).isTrue();
        assertThat(passes("numeric", "3/4", "0.75")).isTrue();
        assertThat(passes("numeric", "50%", "0.5")).isTrue();
        assertThat(passes("numeric", "2e3", "2000")).isTrue();
        assertThat(passes("numeric", "-7.", "-7")).isTrue();
        assertThat(passes("numeric", "$12", "12")).isTrue();
        assertThat(passes("numeric", "3.14", "3.14159")).isFalse();
        assertThat(passes("numeric;tolerance=0.01", "3.14", "3.14159")).isTrue();
        assertThat(passes("numeric;relative=0.01", "990", "1000")).isTrue();
        assertThat(passes("numeric;relative=0.001", "990", "1000")).isFalse();
    }

    @Test
    void malformedAnswersFailWithAReason() {
        Verifier numeric = new Verifier(VerifierSpec.parse("numeric"));
        Verifier.Verdict words = numeric.check("about twelve", List.of("12"));
        assertThat(words.passed()).isFalse();
        assertThat(words.reason()).contains("not a number");
        assertThat(numeric.check("1/0", List.of("1")).passed()).isFalse();
        assertThat(numeric.check("", List.of("1")).passed()).isFalse();
        assertThat(numeric.check("1.2.3", List.of("1.2")).passed()).isFalse();

        Verifier boxed = new Verifier(VerifierSpec.parse("numeric;extract=boxed"));
        Verifier.Verdict open = boxed.check("so \\boxed{42", List.of("42"));
        assertThat(open.passed()).isFalse();
        assertThat(open.reason()).contains("no answer to extract");
    }

    @Test
    void extractionsPickTheAnswer() {
        assertThat(passes("numeric;extract=boxed", "first \\boxed{1} then \\boxed{\\frac{}{}42}", "1")).isFalse();
        assertThat(passes("exact;extract=boxed", "so the answer is \\boxed{x^{2}}.", "x^{2}")).isTrue();
        assertThat(passes("numeric;extract=last-line", "Work:\n2+2=4\n\n  4  \n", "4")).isTrue();
        assertThat(passes("numeric;extract=last-number", "I count 3 apples and 5 pears, so 8", "8")).isTrue();
        assertThat(passes("normalised;extract=pattern;pattern=(?i)answer:\\s*(.+)", "Hmm.\nAnswer: The Moon", "moon"))
                .isTrue();
        assertThat(passes("exact;extract=pattern;pattern=#### \\d+", "x\n#### 17", "#### 17")).isTrue();
    }

    @Test
    void jsonSchemaChecksWellFormednessAndTheSchema() {
        String schema = "{\"type\":\"object\",\"required\":[\"name\",\"age\"],"
                + "\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\",\"minimum\":0}}}";
        Verifier json = new Verifier(VerifierSpec.parse("json-schema"));
        assertThat(json.check("{\"name\":\"Ada\",\"age\":36}", List.of(schema)).passed()).isTrue();
        Verifier.Verdict negative = json.check("{\"name\":\"Ada\",\"age\":-1}", List.of(schema));
        assertThat(negative.passed()).isFalse();
        assertThat(negative.reason()).contains("schema");
        assertThat(json.check("{\"name\":\"Ada\"}", List.of(schema)).passed()).isFalse();
        Verifier.Verdict broken = json.check("{\"name\":", List.of(schema));
        assertThat(broken.passed()).isFalse();
        assertThat(broken.reason()).contains("not JSON");
        assertThat(json.check("[1, 2]", List.of()).passed()).isTrue();
        assertThat(json.check("{} trailing", List.of()).passed()).isFalse();
    }

    @Test
    void aSchemaFromAPromptCannotMakeTheScorerFetchAnything(@TempDir Path dir) throws Exception {
        // A prompt's schema is untrusted input: a $ref must not reach the network or the scorer's disk.
        AtomicInteger hits = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            hits.incrementAndGet();
            byte[] body = "{\"type\": \"object\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        Path local = Files.writeString(dir.resolve("local.json"), "{\"type\": \"object\"}");
        try {
            Verifier json = new Verifier(VerifierSpec.parse("json-schema"));
            String remote = "{\"$ref\": \"http://127.0.0.1:" + server.getAddress().getPort() + "/s.json\"}";
            String file = "{\"$ref\": \"" + local.toUri() + "\"}";
            for (String schema : List.of(remote, file)) {
                try {
                    Verifier.Verdict verdict = json.check("{}", List.of(schema));
                    assertThat(verdict.passed()).as("a $ref that was not loaded cannot pass: %s", schema).isFalse();
                } catch (IllegalArgumentException | com.networknt.schema.SchemaException refused) {
                    assertThat(refused).hasMessageNotContaining("type");  // refused without reading the target
                }
            }
            assertThat(hits.get()).as("requests the scorer made for a prompt's schema").isZero();
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aVerifierThatCannotJudgeSaysWhy() {
        assertThatThrownBy(() -> new Verifier(VerifierSpec.parse("exact")).check("x", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a reference answer");
        assertThatThrownBy(() -> new Verifier(VerifierSpec.parse("numeric")).check("3", List.of("three")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'three' is not a number");
        assertThatThrownBy(() -> new Verifier(VerifierSpec.parse("json-schema")).check("{}", List.of("{\"type\":")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a JSON schema");
    }

    @Test
    void theSourceUsesThePromptsVerifierFirstAndMarksWhatItCannotJudge() {
        RewardSource source = RewardSources.create(RewardSpec.parse("verify:normalised;pass=2;fail=-1"));
        List<ScoringInput> batch = List.of(
                input("plain", "The Moon", List.of("moon"), null),
                input("wrong", "Mars", List.of("moon"), null),
                input("own", "7.0001", List.of("7"), "numeric;tolerance=0.001"),
                input("none", "moon", List.of(), null),
                input("bad-spec", "moon", List.of("moon"), "fuzzy"));
        double[] scores = source.score(batch);
        assertThat(scores[0]).isEqualTo(2.0);
        assertThat(scores[1]).isEqualTo(-1.0);
        assertThat(scores[2]).isEqualTo(2.0);
        assertThat(scores[3]).isNaN();
        assertThat(scores[4]).isNaN();

        double[] promptOnly = RewardSources.create(RewardSpec.parse("verify:prompt")).score(batch);
        assertThat(promptOnly[0]).isNaN();
        assertThat(promptOnly[2]).isEqualTo(1.0);
    }

    @Test
    void badSpecsAreRefusedNamingTheSpec() {
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("verify:fuzzy")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("verify:fuzzy")
                .hasMessageContaining("unknown kind 'fuzzy'");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("verify:numeric;tolerance=wide")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tolerance=wide is not a number");
        assertThatThrownBy(() -> RewardSources.create(RewardSpec.parse("verify:exact;tolerance=1")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option 'tolerance'");
    }

    private static ScoringInput input(String id, String response, List<String> references, String verifier) {
        return new ScoringInput(id, "q", response, null, null, null, references, verifier);
    }
}
