package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

/** Generations carrying their prompt's reference answers are scored by a {@code verify:} source in the topology. */
class VerifiableScoringTest {

    private static Generation answered(String id, String response, List<String> references, String verifier) {
        Generation g = Fixtures.generation(id, "p-" + id, response);
        g.setReferenceAnswers(references);
        g.setVerifier(verifier);
        return g;
    }

    @Test
    void passesFailuresAndUnjudgeableGenerationsEachGoWhereTheyBelong() {
        RewardEnsemble ensemble = RewardEnsemble.builder()
                .add(RewardSources.create(RewardSpec.parse("verify:numeric;extract=last-number")))
                .normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 4, Duration.ofHours(1), Duration.ofHours(1))) {
            h.generations.pipeInput("p-right", answered("right", "7 times 12 is 84", List.of("84"), null));
            h.generations.pipeInput("p-wrong", answered("wrong", "7 times 12 is 82", List.of("84"), null));
            h.generations.pipeInput("p-own", answered("own", "it is Paris .", List.of("paris"),
                    "normalised;extract=pattern;pattern=is (.+)"));
            h.generations.pipeInput("p-none", answered("none", "84", List.of(), null));

            Map<String, Double> rewards = h.scored.readValuesToList().stream().collect(Collectors.toMap(
                    s -> s.getGeneration().getGenerationId(), ScoredGeneration::getReward));
            assertThat(rewards).containsOnly(Map.entry("right", 1.0), Map.entry("wrong", 0.0),
                    Map.entry("own", 1.0));
            List<TestRecord<byte[], byte[]>> dead = h.generationsDlq.readRecordsToList();
            assertThat(dead).singleElement().satisfies(r -> assertThat(
                    DlqHeaders.read(r.headers(), DlqHeaders.ERROR_MESSAGE)).contains("verify-numeric"));
        }
    }
}
