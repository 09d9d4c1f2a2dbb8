package io.streamrlhf.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.cli.Rlhf;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The comparison line of {@code --compare-plaintext} and the secure options' checks. */
class BenchClusterOptionsTest {

    @Test
    void theComparisonLineNamesBothRunsAndTheRatios() {
        Map<String, Double> plaintext = new LinkedHashMap<>();
        plaintext.put("generations_per_s", 100.0);
        plaintext.put("ratio_to_sampling", 0.95);
        Map<String, Double> secure = new LinkedHashMap<>();
        secure.put("generations_per_s", 90.0);
        secure.put("ratio_to_sampling", 0.76);
        assertThat(BenchClusterOptions.comparison(plaintext, secure)).isEqualTo("{\"plaintext_generations_per_s\":100.000, "
                + "\"secure_generations_per_s\":90.000, \"plaintext_ratio_to_sampling\":0.950, "
                + "\"secure_ratio_to_sampling\":0.760, \"ratio\":0.900, \"ratio_normalised\":0.800}");
    }

    @Test
    void theTwoSidesRunInAbbaOrderAndAreAveraged() {
        assertThat(BenchClusterOptions.order(List.of("plaintext", "secure")))
                .containsExactly("plaintext", "secure", "secure", "plaintext");
        assertThat(BenchClusterOptions.order(List.of("secure"))).containsExactly("secure");
        assertThat(BenchClusterOptions.mean(List.of(Map.of("x", 1.0), Map.of("x", 2.0)))).containsEntry("x", 1.5);
    }

    @Test
    void comparingNeedsASecureClusterAndConfigFilesMustExist() {
        CommandLine rlhf = Rlhf.commandLine();
        rlhf.setErr(new java.io.PrintWriter(new java.io.StringWriter()));
        assertThat(rlhf.execute("bench", "worker", "--compare-plaintext")).isEqualTo(2);
        assertThat(rlhf.execute("bench", "scoring", "--secure", "--config", "x.properties")).isEqualTo(2);
        assertThat(rlhf.execute("bench", "scoring", "--config", "/nonexistent/worker.properties")).isEqualTo(2);
        assertThat(rlhf.execute("bench", "worker", "--admin-config", "admin.properties")).isEqualTo(2);
    }
}
