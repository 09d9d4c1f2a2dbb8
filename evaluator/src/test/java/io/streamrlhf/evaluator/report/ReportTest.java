package io.streamrlhf.evaluator.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.evaluator.RmbFixture;
import io.streamrlhf.evaluator.metrics.EvaluationSources;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbScorer;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path tmp;

    private static RmbEvaluation evaluate(List<String> specs) {
        try (RewardEnsemble e = EvaluationSources.ensemble(EvaluationSources.parse(specs), Aggregation.MEAN)) {
            return new RmbScorer(e, 16).evaluate(RmbReader.read(RmbFixture.originalLayout()).items());
        }
    }

    @Test
    void jsonHasTheIssuesShapeAndTheHandComputedValues() throws Exception {
        String line = JsonReport.line(JsonReport.of(evaluate(List.of("rule:length"))));

        assertThat(line).doesNotContain("\n").startsWith("{\"pairwise\":{\"accuracy\":0.5,\"n\":8},"
                + "\"bon\":{\"accuracy\":0.6,\"n\":5},\"by_scenario\":[");
        JsonNode json = JSON.readTree(line);
        assertThat(json.get("overall").asDouble()).isEqualTo(0.525, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(json.get("voting").asText()).isEqualTo("rule-length");
        assertThat(json.get("by_scenario")).hasSize(5);
        JsonNode first = json.get("by_scenario").get(0);
        assertThat(first.get("category_path").asText()).isEqualTo("Pairwise_set/Harmlessness/S1");
        assertThat(first.get("set").asText()).isEqualTo("pairwise");
        assertThat(first.get("goal").asText()).isEqualTo("harmlessness");
        assertThat(first.get("n").asInt()).isEqualTo(3);
        assertThat(first.get("accuracy").asDouble()).isEqualTo(1.0 / 3);
        assertThat(json.get("by_goal")).hasSize(4);
        assertThat(json.at("/sources/rule-length/pairwise/n").asInt()).isEqualTo(8);
    }

    @Test
    void aFigureWithNoItemsIsNull() throws Exception {
        RmbEvaluation eval;
        try (RewardEnsemble e = EvaluationSources.ensemble(EvaluationSources.parse(List.of("rule:length")),
                Aggregation.MEAN)) {
            eval = new RmbScorer(e, 16).evaluate(RmbReader.readFile(
                    RmbFixture.originalLayout().resolve("Pairwise_set/Harmlessness/S1.json")));
        }
        JsonNode json = JSON.readTree(JsonReport.line(JsonReport.of(eval)));
        assertThat(json.at("/bon/accuracy").isNull()).isTrue();
        assertThat(json.at("/bon/n").asInt()).isZero();
        assertThat(json.get("overall").asDouble()).isEqualTo(1.0 / 3);
    }

    private static int distinctColours(BufferedImage image) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                colours.add(image.getRGB(x, y));
            }
        }
        return colours.size();
    }

    @Test
    void htmlReportHasTablesAndRealPngCharts() throws Exception {
        RmbEvaluation eval = evaluate(List.of("rule:length", "rule:length;scale=-1;name=shorter",
                "rule:format;check=terminal-punctuation"));
        PolicyComparison policies = new PolicyComparison.Accumulator()
                .add("policy", 0, 1.0, 0.5, 10).add("policy", 0, 3.0, 1.5, 12).add("policy", 1, 4.0, 1.0, 20)
                .build();
        RmComparison rms = new RmComparison.Accumulator()
                .generation("q", "g1", 1.0).generation("q", "g2", 2.0)
                .score("rm", 1L, "g1", 0.2).score("rm", 1L, "g2", 0.1)
                .score("rm", 2L, "g1", 0.1).score("rm", 2L, "g2", 0.3)
                .build();

        List<Path> files = new HtmlReport("Fixture <evaluation>").note("sources: rule:length & friends").rmb(eval)
                .comparisons(policies, rms).write(tmp.resolve("report"));

        assertThat(files).extracting(p -> p.getFileName().toString())
                .containsExactly("index.html", "goals.png", "scenarios.png", "policies.png", "reward-models.png");
        String html = Files.readString(files.get(0));
        assertThat(html).contains("<title>Fixture &lt;evaluation&gt;</title>", "sources: rule:length &amp; friends",
                "<td>majority</td>", "Pairwise_set/Helpfulness/Chat/Small Talk", "<img src=\"scenarios.png\"",
                "<td>rm@v1</td>", "<td>rm@v2</td>");
        // majority row: pairwise 0.25 of 8, Best-of-N 0.2 of 5, overall 0.225
        assertThat(html).contains("<td>majority</td><td class=\"num\">0.2500</td><td class=\"num\">8</td>"
                + "<td class=\"num\">0.2000</td><td class=\"num\">5</td>");
        for (Path png : files.subList(1, files.size())) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image).as(png.toString()).isNotNull();
            assertThat(image.getWidth()).isEqualTo(HtmlReport.WIDTH);
            assertThat(image.getHeight()).isGreaterThanOrEqualTo(HtmlReport.HEIGHT);
            assertThat(distinctColours(image)).as(png + " has drawn content").isGreaterThan(8);
        }
    }
}
